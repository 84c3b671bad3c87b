# shellcheck shell=bash
# Sourced by ./dev: private MariaDB replicas of the primary, and the query
# pools that read from them (`./dev up --replica`).
#
# The primary always writes a binary log with GTIDs (server_id 1) and listens
# on 127.0.0.1:$DB_TCP_PORT besides its unix socket: a replica's IO thread
# reaches its primary over TCP. Replica i (1..N) lives in var/replica<i>,
# listens on its own unix socket only, applies with parallel threads and keeps
# no binary log of its own (log_slave_updates off).
#
# With one replica the query pool listens on its unix socket as usual and
# reads from replica 1. With two (CIRCLE_REPLICAS=2) two query pools stand
# in for two hosts: each listens on TCP (127.0.0.1:$QUERY_TCP_PORT + i - 1),
# reads from its own replica, and nginx's query upstream lists both.
#
# Uses ./dev's variables (ROOT SELF VAR RUN LOG PORT DB_CNF BUILD_DIR FLAVOUR)
# and helpers (say die fail is_root db_admin db_start db_stop
# render live_pid stop_pids detached log_tail pool_stop pool_ensure suite_e2e).
#
#: replicas (tools/replica.sh):
#:   up --replica  (with --sanitizers or --valgrind too) also a MariaDB
#:               replica of the primary, the query pool reading from it;
#:               CIRCLE_REPLICAS=2: two replicas, two query pools on TCP
#:               behind one nginx upstream, as two hosts would be
#:   test        ends with the replica pass: check-e2e (tests/e2e/test_replica
#:               included; it skips without replicas) with two replicas
#:   CIRCLE_DB_PORT     the primary's 127.0.0.1 TCP port, for the replicas
#:                      (20000 + CIRCLE_HTTP_PORT % 1000, below the
#:                      kernel's ephemeral ports, which outgoing connections take)
#:   CIRCLE_QUERY_PORT  first TCP port of the two query pools (CIRCLE_DB_PORT + 2)
#:   CIRCLE_REPLICAS    replicas of up --replica: 1 or 2 (1)

DB_TCP_PORT="${CIRCLE_DB_PORT:-$((20000 + PORT % 1000))}"
QUERY_TCP_PORT="${CIRCLE_QUERY_PORT:-$((DB_TCP_PORT + 2))}"
# How many replicas `up --replica` runs: 1, or 2 for the several-hosts setup.
# shellcheck disable=SC2034 # read by ./dev
REPLICAS_WANTED="${CIRCLE_REPLICAS:-1}"
# The mode of the last `up`: 0 (single database) or the number of replicas.
REPLICA_MODE_FILE="$VAR/replicas"
REPL_USER=circle_repl
# Replicas the query side reads from on this `up` (0: the single database).
REPLICAS=0

replica_mode() {
	local n=0
	[[ -f $REPLICA_MODE_FILE ]] && n=$(<"$REPLICA_MODE_FILE")
	[[ $n =~ ^[0-9]$ ]] || n=0
	echo "$n"
}

replica_dir() { echo "$VAR/replica$1"; }
replica_cnf() { echo "$VAR/replica$1.cnf"; }
replica_sock() { echo "$RUN/replica$1.sock"; }
replica_pidfile() { echo "$RUN/replica$1.pid"; }
replica_admin() {
	local i=$1
	shift
	mariadb --defaults-file="$(replica_cnf "$i")" "$@"
}

replica_write_cnf() {
	local i=$1
	mkdir -p "$VAR" "$RUN" "$LOG"
	render dev-replica.cnf "$(replica_cnf "$i")" N="$i" SOCKET="$(replica_sock "$i")" \
		USER="$(id -un)" DATADIR="$(replica_dir "$i")" PIDFILE="$(replica_pidfile "$i")" \
		LOGDIR="$LOG" SERVER_ID=$((i + 1))
}

replica_pid() { live_pid "$(replica_pidfile "$1")" mariadbd; }
replica_running() { replica_pid "$1" >/dev/null; }

replica_start() {
	local i=$1 child k
	replica_write_cnf "$i"
	replica_running "$i" && return 0
	local args=(--defaults-file="$(replica_cnf "$i")")
	is_root && args+=(--user=root)
	if [[ ! -d $(replica_dir "$i")/mysql ]]; then
		rm -rf "$(replica_dir "$i")"
		mkdir -p "$(replica_dir "$i")"
		if ! mariadb-install-db "${args[@]}" --auth-root-authentication-method=socket \
			--skip-test-db >"$LOG/replica$i-install.log" 2>&1; then
			log_tail "$LOG/replica$i-install.log"
			rm -rf "$(replica_dir "$i")"
			die "mariadb-install-db failed for replica $i"
		fi
	fi
	say "starting MariaDB replica $i (socket ${RUN#"$ROOT"/}/replica$i.sock)"
	rm -f "$(replica_pidfile "$i")" "$(replica_sock "$i")"
	detached setsid mariadbd "${args[@]}" </dev/null >>"$LOG/replica$i.out" 2>&1 &
	child=$!
	for ((k = 0; k < 600; k++)); do
		replica_admin "$i" -N -e 'SELECT 1' >/dev/null 2>&1 && return 0
		if ! kill -0 "$child" 2>/dev/null; then
			log_tail "$LOG/replica$i.err"
			die "replica $i exited while starting"
		fi
		sleep 0.1
	done
	die "replica $i did not answer within 60s"
}

replica_stop() {
	local i=$1 pid
	if pid=$(replica_pid "$i"); then
		say "stopping MariaDB replica $i"
		stop_pids TERM 60 mariadbd "$pid"
	fi
	rm -f "$(replica_pidfile "$i")"
}

# Every replica directory there is, running or not.
replica_ids() {
	local d
	for d in "$VAR"/replica[0-9]; do
		[[ -d $d ]] && echo "${d##*replica}"
	done
	return 0
}

replica_stop_all() {
	local i
	for i in $(replica_ids); do replica_stop "$i"; done
}

# Starts the replicas of the current mode (after db-stop, say).
replica_start_mode() {
	local n i
	n=$(replica_mode)
	for ((i = 1; i <= n; i++)); do replica_start "$i"; done
}

# The primary must log GTIDs and listen on TCP; one started before it did
# is restarted once.
replica_primary_ready() {
	local got
	got=$(db_admin -N -e 'SELECT @@log_bin, @@port, @@skip_networking' 2>/dev/null || true)
	if [[ $got != "1	$DB_TCP_PORT	0" ]]; then
		say "restarting MariaDB with its binary log and TCP port $DB_TCP_PORT"
		db_stop
		db_start
	fi
	local secret
	secret=$(db_password replication)
	db_admin <<EOF || die "could not create the replication user"
CREATE USER IF NOT EXISTS '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$secret';
ALTER USER '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$secret';
GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'127.0.0.1';
EOF
}

# A new replica gets a consistent copy of the primary (its users and the
# circle databases, with the GTID position of that copy), then replicates
# from there.
replica_seed() {
	local i=$1 dump secret
	[[ -f $(replica_dir "$i")/.seeded ]] && return 0
	say "copying the primary into replica $i"
	dump="$VAR/replica$i.dump.sql"
	if ! mariadb-dump --defaults-file="$DB_CNF" --single-transaction --routines --gtid --master-data=1 \
		--system=users --insert-ignore --databases "${DATABASES[@]}" >"$dump" 2>"$LOG/replica$i-dump.log"; then
		log_tail "$LOG/replica$i-dump.log"
		die "mariadb-dump of the primary failed"
	fi
	secret=$(db_password replication)
	replica_admin "$i" -e "STOP SLAVE; RESET SLAVE ALL" || true
	replica_admin "$i" <"$dump" || die "loading the primary's copy into replica $i failed"
	replica_admin "$i" <<EOF || die "could not start replication on replica $i"
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$DB_TCP_PORT,
  MASTER_USER='$REPL_USER', MASTER_PASSWORD='$secret',
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
EOF
	rm -f "$dump"
	touch "$(replica_dir "$i")/.seeded"
}

# Brings up the replicas of `up --replica` and records the mode; a change of
# mode restarts the query pools so that they read from the right server.
replica_up() {
	local want=$1 i
	[[ $want =~ ^[0-2]$ ]] || die "CIRCLE_REPLICAS must be 1 or 2: $want"
	if [[ $(replica_mode) != "$want" ]]; then
		pool_stop query
		pool_stop query2
		echo "$want" >"$REPLICA_MODE_FILE"
	fi
	for i in $(replica_ids); do
		((i > want)) && replica_stop "$i"
	done
	((want > 0)) || return 0
	replica_primary_ready
	for ((i = 1; i <= want; i++)); do
		replica_start "$i"
		replica_seed "$i"
	done
	replica_catch_up "$want"
}

# A replica that was down while the primary took writes (the tests' load)
# replays them first: `up` is done when every replica holds all the primary
# has, so that a read's wait is about its own write, not the backlog.
replica_catch_up() {
	local n=$1 i pos got
	pos=$(db_admin -N -e 'SELECT @@GLOBAL.gtid_binlog_pos') || die "the primary's GTID position?"
	for ((i = 1; i <= n; i++)); do
		got=$(replica_admin "$i" -N -e "SELECT MASTER_GTID_WAIT('$pos', 600)" 2>&1 || true)
		[[ $got == 0 ]] || die "replica $i did not reach the primary's $pos within 600s: $got"
	done
}

# The query pools of the current mode. POOL_ENV (more environment) and
# POOL_TCP (host:port to listen on) are read by ./dev's pool_start.
# shellcheck disable=SC2034 # POOL_ENV, POOL_TCP: read by pool_start
replica_pools_ensure() {
	local count=$1 flavour=$2 n
	n=$(replica_mode)
	case $n in
	0) pool_ensure query "$count" "$flavour" ;;
	1)
		POOL_ENV=("CIRCLE_DB_SOCKET=$(replica_sock 1)")
		pool_ensure query "$count" "$flavour"
		;;
	*)
		POOL_ENV=("CIRCLE_DB_SOCKET=$(replica_sock 1)")
		POOL_TCP="127.0.0.1:$QUERY_TCP_PORT"
		pool_ensure query "$count" "$flavour"
		POOL_ENV=("CIRCLE_DB_SOCKET=$(replica_sock 2)")
		POOL_TCP="127.0.0.1:$((QUERY_TCP_PORT + 1))"
		pool_ensure query2 "$count" "$flavour"
		;;
	esac
	POOL_ENV=()
	POOL_TCP=
}

# A password (the replication user's), made once and kept under var/secrets.
db_password() {
	local file=$VAR/secrets/$1.password
	mkdir -p "$VAR/secrets" && chmod 700 "$VAR/secrets"
	[[ -s $file ]] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
	cat "$file"
}

# Filters the nginx site from stdin to stdout: with two replicas the query
# upstream is the two TCP pools, as it would be with one pool per host.
# ./dev's nginx_generate reloads nginx when the site changed.
replica_site() {
	if (($(replica_mode) >= 2)); then
		sed -e "s#^\([[:space:]]*\)server unix:$RUN/query.sock;#\1server 127.0.0.1:$QUERY_TCP_PORT;\n\1server 127.0.0.1:$((QUERY_TCP_PORT + 1));#"
	else
		cat
	fi
}

# The options of `up`: a flavour (--sanitizers, --valgrind), --replica.
# shellcheck disable=SC2034 # REPLICAS: read by ./dev's cmd_up
up_options() {
	local a
	for a in "$@"; do
		if [[ $a == --replica ]]; then REPLICAS=$REPLICAS_WANTED; else FLAVOUR=${a#--}; fi
	done
	[[ -n ${BUILD_DIR[$FLAVOUR]:-} ]] || die "unknown option: --$FLAVOUR"
}

# Sets LISTEN, spawn-fcgi's address for pool NAME: its unix socket, or
# POOL_TCP (host:port) for a pool of two replicas, noted in NAME.tcp.
# shellcheck disable=SC2034 # LISTEN: read by ./dev's pool_start
pool_listen() {
	LISTEN=(-s "$RUN/$1.sock" -M 0600)
	[[ -n ${POOL_TCP:-} ]] || return 0
	LISTEN=(-a "${POOL_TCP%:*}" -p "${POOL_TCP##*:}")
	echo "$POOL_TCP" >"$RUN/$1.tcp"
}

# The pools beyond command and query that run or ran.
replica_extra_pools() { [[ ! -f $RUN/query2.pid ]] || echo query2; }

# One line per replica: its threads and its lag.
replica_status() {
	local i io sql lag gtid
	for i in $(replica_ids); do
		if ! replica_running "$i"; then
			echo "replica$i  stopped"
			continue
		fi
		read -r io sql lag < <(replica_admin "$i" -e 'SHOW SLAVE STATUS\G' 2>/dev/null |
			awk -F': ' '/ Slave_IO_Running:/ {io=$2} / Slave_SQL_Running:/ {sql=$2}
				/ Seconds_Behind_Master:/ {lag=$2} END {print io, sql, lag}')
		gtid=$(replica_admin "$i" -N -e 'SELECT @@gtid_slave_pos' 2>/dev/null || true)
		echo "replica$i  running (pid $(replica_pid "$i")), io ${io:-?}, sql ${sql:-?}, lag ${lag:-?}s, at ${gtid:-?}"
	done
	return 0
}

# ---------------------------------------------------------------- tests
# The end-to-end suite with the query side on two replicas, each read by its
# own query pool on TCP as two hosts would be (writes go to the primary,
# reads carry the token of the last write), tests/e2e/test_replica with an
# administrator's access to the replicas; the single database is back after.
mode_replica() {
	local dir=${BUILD_DIR[plain]}
	echo "##### tests: check-e2e, the query pools reading from two replicas"
	# shellcheck disable=SC2034 # read by ./dev
	FLAVOUR=plain
	if CIRCLE_REPLICAS=2 "$SELF" up --replica >/dev/null; then
		suite_e2e "$dir" CIRCLE_TEST_REPLICA_CNFS="$(replica_cnf 1) $(replica_cnf 2)"
	else
		say "the service did not come up with replicas: counted as failed"
		fail
	fi
	if ! "$SELF" up >/dev/null; then
		say "the single-database setup did not come back: counted as failed"
		fail
	fi
}
