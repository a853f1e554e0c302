#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server on loopback.
#
#   .ci/postgres.sh COMMAND [ARGS...]
#
# Installs Debian's postgresql when it is missing, creates a cluster in a temporary directory,
# starts it on a free loopback port, runs COMMAND with KENNISBANK_TEST_DATABASE_URL pointing at
# the server, then stops the server and removes the cluster whatever happened. Exits with
# COMMAND's exit code. The cluster trades durability for speed (fsync off): it only holds tests.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin)" ]; then
    echo "Installing Debian's postgresql for the PostgreSQL test run"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # The package creates and may start a default cluster: we use our own, so leave nothing running.
    pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" {print $1, $2}' | while read -r version name; do
        pg_ctlcluster "$version" "$name" stop || true
    done
fi
BIN="$(pg_bin)"

# initdb and postgres refuse to run as root: run them as the postgres user when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

CLUSTER="$(mktemp -d /tmp/kennisbank-pg.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres: "$CLUSTER"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

stop_cluster() {
    as_owner "$BIN/pg_ctl" -D "$CLUSTER/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER"
}
trap stop_cluster EXIT

as_owner "$BIN/initdb" -D "$CLUSTER/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_owner "$BIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -k $CLUSTER -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=200" >/dev/null
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') running on 127.0.0.1:$PORT"

status=0
KENNISBANK_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres" "$@" || status=$?
exit "$status"
