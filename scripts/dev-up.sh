#!/usr/bin/env bash
# Start real local PostgreSQL, redis-server and a Kafka-protocol broker (kfake, via
# internal/devkafka) for running vidlib's full stack on this machine, then print the
# VIDLIB_* variables to export:
#
#   eval "$(scripts/dev-up.sh --env)"     # or: make dev-up, then: set -a; . .dev/env; set +a
#   go run ./cmd/vidlib migrate && go run ./cmd/vidlib all
#
# Idempotent: a second run reuses what is running. Data lives in $STATE (default .dev) and
# survives scripts/dev-down.sh; `scripts/dev-down.sh --wipe` deletes it. Installs the
# postgresql and redis-server Debian packages when missing (needs root or sudo).
# The broker is kfake: a complete Kafka protocol implementation in memory (with -data-dir
# persistence) but no replication and no transactions. Fine for development, not production.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ENV_ONLY=0
[ "${1:-}" = "--env" ] && ENV_ONLY=1
log() { if [ "$ENV_ONLY" = 1 ]; then echo "$*" >&2; else echo "$*"; fi; }

STATE=${STATE:-.dev}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
KAFKA_PORT=${KAFKA_PORT:-59092}
mkdir -p "$STATE"
chmod 755 "$STATE"
STATE=$(cd "$STATE" && pwd)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
need=()
command -v redis-server >/dev/null || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL: initdb + pg_ctl; as root they run as the postgres user.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$STATE/pg"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres:postgres "$STATE/pg"
	# Every parent of $STATE must be traversable by the postgres user.
	p=$STATE
	while [ "$p" != / ]; do
		runuser -u postgres -- test -x "$p" || { log "dev-up: $p is not traversable by the postgres user; set STATE elsewhere (e.g. STATE=/tmp/vidlib-dev)"; exit 1; }
		p=$(dirname "$p")
	done
fi
if [ ! -f "$STATE/pg/data/PG_VERSION" ]; then
	as_pg "$PGBIN/initdb" -D "$STATE/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! as_pg "$PGBIN/pg_ctl" -D "$STATE/pg/data" status >/dev/null 2>&1; then
	as_pg "$PGBIN/pg_ctl" -D "$STATE/pg/data" -l "$STATE/pg/server.log" -w -t 30 \
		-o "-p $PG_PORT -k $STATE/pg -c listen_addresses=127.0.0.1" start >/dev/null
	log "postgres  started on 127.0.0.1:$PG_PORT (log $STATE/pg/server.log)"
else
	log "postgres  already running"
fi
if ! as_pg "$PGBIN/psql" -h "$STATE/pg" -p "$PG_PORT" -U postgres -tAc \
	"select 1 from pg_database where datname='vidlib'" | grep -q 1; then
	as_pg "$PGBIN/createdb" -h "$STATE/pg" -p "$PG_PORT" -U postgres vidlib
fi

# Redis: no persistence; data is a cache.
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
		--dir "$STATE" --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
	for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
	redis-cli -p "$REDIS_PORT" ping >/dev/null || { log "redis did not start: see $STATE/redis.log"; exit 1; }
	log "redis     started on 127.0.0.1:$REDIS_PORT"
else
	log "redis     already running"
fi

# Kafka protocol: kfake, persisted in $STATE/kafka.
if ! { [ -f "$STATE/kafka.pid" ] && kill -0 "$(cat "$STATE/kafka.pid")" 2>/dev/null; }; then
	go build -o "$STATE/devkafka" ./internal/devkafka
	: >"$STATE/kafka.out"
	nohup "$STATE/devkafka" -ports "$KAFKA_PORT" -data-dir "$STATE/kafka" -default-partitions 6 \
		>"$STATE/kafka.out" 2>"$STATE/kafka.log" &
	echo $! >"$STATE/kafka.pid"
	for _ in $(seq 200); do grep -q KAFKA_BROKERS "$STATE/kafka.out" 2>/dev/null && break; sleep 0.05; done
	grep -q KAFKA_BROKERS "$STATE/kafka.out" || { log "kafka broker did not start: see $STATE/kafka.log"; exit 1; }
	log "kafka     started on 127.0.0.1:$KAFKA_PORT (kfake)"
else
	log "kafka     already running"
fi

cat >"$STATE/env" <<ENV
VIDLIB_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/vidlib?sslmode=disable
VIDLIB_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
VIDLIB_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
VIDLIB_LOG_FORMAT=console
ENV
if [ "$ENV_ONLY" = 1 ]; then
	sed 's/^/export /' "$STATE/env"
else
	echo
	echo "# export these (or: set -a; . $STATE/env; set +a):"
	sed 's/^/export /' "$STATE/env"
	echo "# then set VIDLIB_VIMEO_TOKEN, VIDLIB_VIMEO_ROOT_FOLDER_ID, VIDLIB_VIMEO_WEBHOOK_SECRETS and an issuer"
	echo "# (e.g. VIDLIB_GOOGLE_CLIENT_IDS) for 'vidlib all'; stop with scripts/dev-down.sh"
fi
