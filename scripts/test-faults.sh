#!/usr/bin/env bash
# The fault suite (make test-faults): on a PostgreSQL cluster of its own
# (port PARLEY_FAULTS_PORT, default 18150, in a temporary directory, never
# the shared one), it kills `parley serve` with SIGKILL under load, restarts
# PostgreSQL in immediate mode under load, and measures token counting from
# 1 KB to 1 MB of adversarial text. See RELIABILITY.md for what it checks
# and the figures it printed.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PARLEY_FAULTS_PORT:-18150}
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
bin=/usr/lib/postgresql/$version/bin
if [[ ! -x $bin/initdb ]]; then
	echo "test-faults: no PostgreSQL server binaries in /usr/lib/postgresql (run make db first)" >&2
	exit 1
fi
data=$(mktemp -d /tmp/parley-faults.XXXXXX)
# initdb and the server refuse to run as root: use the postgres account then.
as_pg=()
if [[ $(id -u) == 0 ]]; then
	chown postgres: "$data"
	as_pg=(runuser -u postgres --)
fi
pgctl=("${as_pg[@]}" "$bin/pg_ctl" -D "$data/db" -w)
cleanup() {
	"${pgctl[@]}" stop -m immediate >/dev/null 2>&1 || true
	rm -rf "$data"
}
trap cleanup EXIT

"${as_pg[@]}" "$bin/initdb" -D "$data/db" -U parley --auth=trust --encoding=UTF8 >/dev/null
"${pgctl[@]}" -l "$data/server.log" -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
base="postgres://parley@127.0.0.1:$port"
"$bin/psql" -q "$base/postgres" -c "CREATE DATABASE parley_faults" >/dev/null
"$bin/psql" -q "$base/parley_faults" -c "CREATE EXTENSION vector" >/dev/null

export PARLEY_TEST_DATABASE_URL="$base/parley_faults?sslmode=disable"
# -l: the restarted server must not write to the test's output pipe.
export PARLEY_FAULTS_PG_RESTART="${pgctl[*]} -l $data/server.log restart -m immediate"
echo "test-faults: PostgreSQL $version on port $port ($data)"
go test -tags faults -count=1 -timeout 20m -v \
	-run "${PARLEY_FAULTS_RUN:-TestKilledServerLosesNoStoredMessage|TestDatabaseRestartUnderLoad|TestCountPerByteToOneMegabyte}" \
	./cmd/parley/ ./llm/ 2>&1 | grep -E '^(=== RUN|--- |\s+\S+_test\.go:|ok|FAIL|PASS|panic)'
