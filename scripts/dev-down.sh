#!/usr/bin/env bash
# Stop what scripts/dev-up.sh started (by PID file and pg_ctl). --wipe also deletes the data.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
STATE=${STATE:-.dev}
[ -d "$STATE" ] || { echo "nothing to stop ($STATE does not exist)"; exit 0; }
STATE=$(cd "$STATE" && pwd)

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -f "$STATE/pg/data/PG_VERSION" ]; then
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	if as_pg "$PGBIN/pg_ctl" -D "$STATE/pg/data" status >/dev/null 2>&1; then
		as_pg "$PGBIN/pg_ctl" -D "$STATE/pg/data" -m fast -w stop >/dev/null && echo "postgres  stopped"
	fi
fi
stop_pid() { # name pidfile
	if [ -f "$2" ]; then
		pid=$(cat "$2")
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
			echo "$1 stopped"
		fi
		rm -f "$2"
	fi
}
stop_pid "redis    " "$STATE/redis.pid"
stop_pid "kafka    " "$STATE/kafka.pid"

if [ "${1:-}" = "--wipe" ]; then
	rm -rf "$STATE"
	echo "wiped $STATE"
fi
