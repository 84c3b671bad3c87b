-- Idempotency-Key on every write, not only on creates: a key remembers the
-- request it came with and the answer it got, so a repeat of PUT, PATCH or
-- DELETE answers the first response again and a different request under the
-- same key is refused.
--
--   request  the request in canonical form (method, path, body as a JSON
--            value, If-Match, ?version), written by the command worker; NULL
--            on rows from before this migration, which only creates wrote
--   status   the HTTP status of the first answer (201, 200, 204)
--   version, deleted
--            the circle after that write (with circle_id, name, capacity),
--            which is the body of the first answer
--
-- Retention is unchanged: 24 hours. Expired rows are now removed by a write
-- that reuses the key, and purged in batches by `circlectl purge-keys`
-- (circle-purge-keys.timer), never on a request's path: the command worker
-- no longer purges, whatever 003 says (applied migrations are not edited,
-- circlectl migrate holds them to their checksums).
--
-- Idempotent: apply it any number of times.

ALTER TABLE idempotency_keys
    ADD COLUMN IF NOT EXISTS request VARCHAR(2000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN IF NOT EXISTS status SMALLINT NULL,
    ADD COLUMN IF NOT EXISTS version INT UNSIGNED NULL,
    ADD COLUMN IF NOT EXISTS deleted TINYINT(1) NULL;
