/*
 * A strict JSON checker for request bodies, and the command bodies on top.
 * The checker is a recursive descent over the bytes: recursion is bounded by
 * JSON_BODY_MAX_DEPTH, so even 10000 '[' cost 33 frames. Member names are
 * decoded into one arena sized like the body (a decoded name is never longer
 * than its text), and each object's names are sorted when it closes to find
 * a name given twice in O(n log n), however many members a body has.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "domain/text.h"
#include "http/json_body.h"

struct name_ref {
	const unsigned char *p;
	size_t len;
};

struct scan {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int depth;
	const char *err; /* static detail of the first error */
	bool oom;
	unsigned char *arena; /* decoded member names, len bytes */
	size_t arena_used;
	struct name_ref *names; /* names of the objects still open */
	size_t nnames, names_cap;
	json_member_fn member;
	void *ctx;
};

static int
fail(struct scan *sc, const char *detail)
{
	if (sc->err == NULL)
		sc->err = detail;
	return -1;
}

static void
skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		sc->pos++;
	}
}

static size_t
put_utf8(unsigned char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Scans the string token at sc->pos (its opening quote). With out, decodes
 * it there; the caller guarantees room for as many bytes as the token has.
 */
static int
scan_string(struct scan *sc, unsigned char *out, size_t *out_len)
{
	const unsigned char *s = sc->s;
	size_t n = sc->len, i = sc->pos + 1, o = 0;

	for (;;) {
		unsigned char c;

		if (i >= n)
			return fail(sc, "a string is not terminated");
		c = s[i];
		if (c == '"') {
			i++;
			break;
		}
		if (c < 0x20)
			return fail(sc, "a string holds an unescaped control character");
		if (c == '\\') {
			unsigned char e;
			uint32_t cp;

			if (i + 1 >= n)
				return fail(sc, "a string is not terminated");
			e = s[i + 1];
			i += 2;
			switch (e) {
			case '"':
			case '\\':
			case '/': cp = e; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (n - i < 4 || text_hex((const char *)s + i, 4, &cp) != 0)
					return fail(sc, "a \\u escape needs four hex digits");
				i += 4;
				/*
				 * An unpaired surrogate escape is valid JSON text
				 * but no character: it is kept as its 3-byte
				 * form, which no UTF-8 check accepts, so the
				 * member holding it is refused by its own rule
				 * (circle_name: invalid_field) rather than the
				 * whole body.
				 */
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					uint32_t lo;

					if (n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u' &&
					    text_hex((const char *)s + i + 2, 4, &lo) == 0 &&
					    lo >= 0xDC00 && lo <= 0xDFFF) {
						i += 6;
						cp = 0x10000 + ((cp - 0xD800) << 10) +
						     (lo - 0xDC00);
					}
				}
				break;
			default: return fail(sc, "a string holds an invalid escape");
			}
			if (out != NULL)
				o += put_utf8(out + o, cp);
			continue;
		}
		if (c < 0x80) {
			if (out != NULL)
				out[o++] = c;
			i++;
			continue;
		}
		{
			size_t k = text_utf8_decode(s + i, n - i, NULL);

			if (k == 0)
				return fail(sc, "the body is not valid UTF-8");
			if (out != NULL)
				memcpy(out + o, s + i, k);
			o += k;
			i += k;
		}
	}
	sc->pos = i;
	if (out_len != NULL)
		*out_len = o;
	return 0;
}

static int
scan_number(struct scan *sc)
{
	const unsigned char *s = sc->s;
	size_t n = sc->len, i = sc->pos;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return fail(sc, "a number is malformed");
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return fail(sc, "a number is malformed");
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return fail(sc, "a number is malformed");
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	sc->pos = i;
	return 0;
}

static int
scan_literal(struct scan *sc, const char *word)
{
	size_t wl = strlen(word);

	if (sc->len - sc->pos < wl || memcmp(sc->s + sc->pos, word, wl) != 0)
		return fail(sc, "the body is not valid JSON");
	sc->pos += wl;
	return 0;
}

static int scan_value(struct scan *sc);

static int
cmp_names(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

static int
push_name(struct scan *sc, const unsigned char *p, size_t len)
{
	if (sc->nnames == sc->names_cap) {
		size_t cap = sc->names_cap ? sc->names_cap * 2 : 16;
		struct name_ref *grown = realloc(sc->names, cap * sizeof(*grown));

		if (grown == NULL) {
			sc->oom = true;
			return fail(sc, "out of memory");
		}
		sc->names = grown;
		sc->names_cap = cap;
	}
	sc->names[sc->nnames].p = p;
	sc->names[sc->nnames].len = len;
	sc->nnames++;
	return 0;
}

static int
scan_object(struct scan *sc)
{
	size_t first = sc->nnames, arena_mark = sc->arena_used, i;
	bool top = sc->depth == 1;

	sc->pos++; /* '{' */
	skip_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
		sc->pos++;
		return 0;
	}
	for (;;) {
		unsigned char *name = sc->arena + sc->arena_used;
		size_t name_len = 0, vstart;

		if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
			return fail(sc, "an object member must start with a quoted name");
		if (scan_string(sc, name, &name_len) != 0)
			return -1;
		sc->arena_used += name_len;
		if (push_name(sc, name, name_len) != 0)
			return -1;
		skip_ws(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
			return fail(sc, "a member name must be followed by ':'");
		sc->pos++;
		skip_ws(sc);
		vstart = sc->pos;
		if (scan_value(sc) != 0)
			return -1;
		if (top && sc->member != NULL)
			sc->member(sc->ctx, (const char *)name, name_len,
				   (const char *)sc->s + vstart, sc->pos - vstart);
		skip_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			skip_ws(sc);
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
			sc->pos++;
			break;
		}
		return fail(sc, "an object member must be followed by ',' or '}'");
	}
	qsort(sc->names + first, sc->nnames - first, sizeof(*sc->names), cmp_names);
	for (i = first + 1; i < sc->nnames; i++)
		if (cmp_names(&sc->names[i - 1], &sc->names[i]) == 0)
			return fail(sc, "an object names the same member twice");
	/* this object's names are done with: later siblings reuse the room */
	sc->nnames = first;
	sc->arena_used = arena_mark;
	return 0;
}

static int
scan_array(struct scan *sc)
{
	sc->pos++; /* '[' */
	skip_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
		sc->pos++;
		return 0;
	}
	for (;;) {
		if (scan_value(sc) != 0)
			return -1;
		skip_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			skip_ws(sc);
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
			sc->pos++;
			return 0;
		}
		return fail(sc, "an array element must be followed by ',' or ']'");
	}
}

static int
scan_value(struct scan *sc)
{
	int rc;

	if (sc->pos >= sc->len)
		return fail(sc, "the body ends in the middle of a value");
	switch (sc->s[sc->pos]) {
	case '{':
	case '[':
		if (++sc->depth > JSON_BODY_MAX_DEPTH)
			return fail(sc, "the body nests objects and arrays deeper than 32");
		rc = sc->s[sc->pos] == '{' ? scan_object(sc) : scan_array(sc);
		sc->depth--;
		return rc;
	case '"': return scan_string(sc, NULL, NULL);
	case 't': return scan_literal(sc, "true");
	case 'f': return scan_literal(sc, "false");
	case 'n': return scan_literal(sc, "null");
	default:
		if (sc->s[sc->pos] == '-' || (sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9'))
			return scan_number(sc);
		if (sc->s[sc->pos] >= 0x80)
			return fail(sc, "a value cannot start with this byte");
		return fail(sc, "the body is not valid JSON");
	}
}

enum cerr
json_body_validate(const char *buf, size_t len, json_member_fn member, void *ctx,
		   struct cerr_info *info)
{
	struct scan sc = {0};
	enum cerr rc = CE_INVALID_JSON;

	sc.s = (const unsigned char *)buf;
	sc.len = buf != NULL ? len : 0;
	sc.member = member;
	sc.ctx = ctx;
	if (sc.len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		fail(&sc, "the body starts with a byte order mark");
		goto out;
	}
	skip_ws(&sc);
	if (sc.pos >= sc.len) {
		fail(&sc, "the body is empty");
		goto out;
	}
	if (sc.s[sc.pos] != '{') {
		fail(&sc, "the body is not a JSON object");
		goto out;
	}
	sc.arena = malloc(sc.len);
	if (sc.arena == NULL) {
		sc.oom = true;
		fail(&sc, "out of memory");
		goto out;
	}
	if (scan_value(&sc) != 0)
		goto out;
	skip_ws(&sc);
	if (sc.pos != sc.len) {
		fail(&sc, "the body has more after its JSON object");
		goto out;
	}
	rc = CE_OK;
out:
	free(sc.names);
	free(sc.arena);
	if (rc == CE_OK)
		return CE_OK;
	if (sc.oom)
		rc = CE_INTERNAL;
	return cerr_set(info, rc, NULL, sc.err);
}

size_t
json_body_decode_string(const char *tok, size_t tok_len, char *out, size_t out_size)
{
	struct scan sc = {0};
	unsigned char *tmp;
	size_t n = 0;

	if (tok_len < 2 || tok[0] != '"')
		return (size_t)-1;
	tmp = malloc(tok_len);
	if (tmp == NULL)
		return (size_t)-1;
	sc.s = (const unsigned char *)tok;
	sc.len = tok_len;
	if (scan_string(&sc, tmp, &n) != 0 || sc.pos != tok_len || n > out_size) {
		free(tmp);
		return (size_t)-1;
	}
	memcpy(out, tmp, n);
	free(tmp);
	return n;
}

/* ---- the command bodies ---- */

enum member_id { M_NAME = 0, M_CAPACITY, M_VERSION, M_DESCRIPTION, M__MAX };

static const char *const member_names[M__MAX] = {"circle_name", "capacity", "version",
						 "description"};

struct members {
	const char *text[M__MAX]; /* raw value, NULL when absent */
	size_t len[M__MAX];
	bool allowed[M__MAX];
	bool unknown; /* the first unknown name is in echo */
	char *echo;   /* JSON_BODY_NAME_ECHO + 1 bytes */
};

/* Copies at most JSON_BODY_NAME_ECHO bytes of name, cut at a character
 * boundary and at any NUL, so the echo stays a valid C string of UTF-8. */
static void
echo_name(char *echo, const char *name, size_t len)
{
	size_t i = 0;

	while (i < len && name[i] != '\0') {
		size_t k =
			(unsigned char)name[i] < 0x80
				? 1
				: text_utf8_decode((const unsigned char *)name + i, len - i, NULL);

		if (k == 0 || i + k > JSON_BODY_NAME_ECHO)
			break;
		i += k;
	}
	memcpy(echo, name, i);
	echo[i] = '\0';
}

static void
collect(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct members *m = ctx;
	int i;

	for (i = 0; i < M__MAX; i++) {
		if (m->allowed[i] && strlen(member_names[i]) == name_len &&
		    memcmp(member_names[i], name, name_len) == 0) {
			m->text[i] = value;
			m->len[i] = value_len;
			return;
		}
	}
	if (!m->unknown) {
		m->unknown = true;
		echo_name(m->echo, name, name_len);
	}
}

/* Why a non-number value is refused, or NULL when tok is a number. */
static const char *
not_a_number(const char *tok)
{
	switch (tok[0]) {
	case 'n': return "must not be null";
	case '"': return "must be an integer, not a string";
	case 't':
	case 'f': return "must be an integer, not a boolean";
	case '{': return "must be an integer, not an object";
	case '[': return "must be an integer, not an array";
	default: return NULL;
	}
}

/* True when the (valid) number token has no fraction and no exponent. */
static bool
is_integer_token(const char *tok, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (tok[i] == '.' || tok[i] == 'e' || tok[i] == 'E')
			return false;
	return true;
}

/* The digits of an integer token (all digits, as the scanner checked),
 * saturated at max. */
static uint64_t
digits_value(const char *d, size_t len, uint64_t max)
{
	uint64_t v = 0;

	(void)text_decimal(d, len, max, &v);
	return v;
}

/* True when the decoded text holds the 3-byte form of a surrogate, which
 * only an unpaired surrogate escape can have put there. */
static bool
has_lone_surrogate(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] == 0xED && (unsigned char)s[i + 1] >= 0xA0)
			return true;
	return false;
}

static enum cerr
check_name(const struct members *m, char *out, struct cerr_info *info)
{
	const char *detail = NULL;
	size_t n;

	if (m->text[M_NAME][0] == 'n')
		return cerr_set(info, CE_INVALID_FIELD, "circle_name", "must not be null");
	if (m->text[M_NAME][0] != '"')
		return cerr_set(info, CE_INVALID_FIELD, "circle_name", "must be a string");
	n = json_body_decode_string(m->text[M_NAME], m->len[M_NAME], out, CIRCLE_NAME_MAX_BYTES);
	if (n == (size_t)-1)
		return cerr_set(info, CE_INVALID_FIELD, "circle_name",
				"must be 1 to 100 characters");
	if (circle_check_name(out, n, &detail) != CE_OK) {
		if (has_lone_surrogate(out, n))
			detail = "circle_name must not hold unpaired surrogate escapes";
		return cerr_set(info, CE_INVALID_FIELD, "circle_name",
				detail != NULL ? detail : "is not a valid name");
	}
	/* the rule refuses U+0000, so the name is a proper C string */
	out[n] = '\0';
	return CE_OK;
}

/* A description as the name is read, with the description's own rule. */
static enum cerr
check_description(const struct members *m, char *out, struct cerr_info *info)
{
	const char *detail = NULL;
	size_t n;

	if (m->text[M_DESCRIPTION][0] == 'n')
		return cerr_set(info, CE_INVALID_FIELD, "description", "must not be null");
	if (m->text[M_DESCRIPTION][0] != '"')
		return cerr_set(info, CE_INVALID_FIELD, "description", "must be a string");
	n = json_body_decode_string(m->text[M_DESCRIPTION], m->len[M_DESCRIPTION], out,
				    CIRCLE_DESCRIPTION_MAX_BYTES);
	if (n == (size_t)-1)
		return cerr_set(info, CE_INVALID_FIELD, "description",
				"must be at most 500 characters");
	if (circle_check_description(out, n, &detail) != CE_OK) {
		if (has_lone_surrogate(out, n))
			detail = "description must not hold unpaired surrogate escapes";
		return cerr_set(info, CE_INVALID_FIELD, "description",
				detail != NULL ? detail : "is not a valid description");
	}
	/* the rule refuses U+0000, so the description is a proper C string */
	out[n] = '\0';
	return CE_OK;
}

static enum cerr
check_capacity(const struct members *m, int *out, struct cerr_info *info)
{
	const char *tok = m->text[M_CAPACITY], *why, *detail = NULL;
	size_t len = m->len[M_CAPACITY];
	long long v;

	why = not_a_number(tok);
	if (why != NULL)
		return cerr_set(info, CE_INVALID_FIELD, "capacity", why);
	if (!is_integer_token(tok, len))
		return cerr_set(info, CE_INVALID_FIELD, "capacity",
				"must be an integer written without fraction or exponent");
	if (tok[0] == '-')
		v = -(long long)digits_value(tok + 1, len - 1, (uint64_t)LLONG_MAX);
	else
		v = (long long)digits_value(tok, len, (uint64_t)LLONG_MAX);
	if (circle_check_capacity(v, &detail) != CE_OK)
		return cerr_set(info, CE_INVALID_FIELD, "capacity",
				detail != NULL ? detail : "must be from 3 to 32767");
	*out = (int)v;
	return CE_OK;
}

static enum cerr
check_version(const struct members *m, uint64_t *out, struct cerr_info *info)
{
	const char *tok = m->text[M_VERSION], *why;
	size_t len = m->len[M_VERSION];
	uint64_t v;

	why = not_a_number(tok);
	if (why != NULL)
		return cerr_set(info, CE_INVALID_FIELD, "version", why);
	if (!is_integer_token(tok, len) || tok[0] == '-')
		return cerr_set(info, CE_INVALID_FIELD, "version", "must be a positive integer");
	v = digits_value(tok, len, UINT64_MAX);
	if (v == 0)
		return cerr_set(info, CE_INVALID_FIELD, "version", "must be a positive integer");
	*out = v;
	return CE_OK;
}

/* Validates buf and collects its top-level members; reports an unknown one. */
static enum cerr
read_members(const char *buf, size_t len, struct members *m, struct cerr_info *info)
{
	enum cerr rc = json_body_validate(buf, len, collect, m, info);

	if (rc != CE_OK)
		return rc;
	if (m->unknown)
		return cerr_set(info, CE_UNKNOWN_FIELD, m->echo,
				"the body has a member the contract does not have");
	return CE_OK;
}

enum cerr
json_body_create(const char *buf, size_t len, struct create_body *out, struct cerr_info *info)
{
	struct members m = {0};
	enum cerr rc;

	memset(out, 0, sizeof(*out));
	m.allowed[M_NAME] = m.allowed[M_CAPACITY] = m.allowed[M_DESCRIPTION] = true;
	m.echo = out->unknown;
	rc = read_members(buf, len, &m, info);
	if (rc != CE_OK)
		return rc;
	if (m.text[M_NAME] == NULL)
		return cerr_set(info, CE_MISSING_FIELD, "circle_name", "circle_name is required");
	if (m.text[M_CAPACITY] == NULL)
		return cerr_set(info, CE_MISSING_FIELD, "capacity", "capacity is required");
	rc = check_name(&m, out->name, info);
	if (rc == CE_OK)
		rc = check_capacity(&m, &out->capacity, info);
	if (rc != CE_OK || m.text[M_DESCRIPTION] == NULL)
		return rc;
	rc = check_description(&m, out->description, info);
	out->has_description = rc == CE_OK;
	return rc;
}

enum cerr
json_body_update(const char *buf, size_t len, struct update_body *out, struct cerr_info *info)
{
	struct members m = {0};
	enum cerr rc;

	memset(out, 0, sizeof(*out));
	m.allowed[M_NAME] = m.allowed[M_CAPACITY] = m.allowed[M_VERSION] = true;
	m.allowed[M_DESCRIPTION] = true;
	m.echo = out->unknown;
	rc = read_members(buf, len, &m, info);
	if (rc != CE_OK)
		return rc;
	if (m.text[M_NAME] != NULL) {
		rc = check_name(&m, out->name, info);
		if (rc != CE_OK)
			return rc;
		out->has_name = true;
	}
	if (m.text[M_CAPACITY] != NULL) {
		rc = check_capacity(&m, &out->capacity, info);
		if (rc != CE_OK)
			return rc;
		out->has_capacity = true;
	}
	if (m.text[M_DESCRIPTION] != NULL) {
		rc = check_description(&m, out->description, info);
		if (rc != CE_OK)
			return rc;
		out->has_description = true;
	}
	if (m.text[M_VERSION] != NULL) {
		rc = check_version(&m, &out->version, info);
		if (rc != CE_OK)
			return rc;
		out->has_version = true;
		out->version_digits = m.text[M_VERSION];
		out->version_digits_len = m.len[M_VERSION];
	}
	if (!out->has_name && !out->has_capacity && !out->has_description)
		return cerr_set(info, CE_NOTHING_TO_UPDATE, NULL,
				"an update must name circle_name, capacity or description");
	return CE_OK;
}
