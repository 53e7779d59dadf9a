#!/usr/bin/env bash
# make bench-memory: how much memory `parley serve` holds right after start
# with the sample knowledge loaded, and after answering a few questions.
# Prints VmRSS (resident now) and VmHWM (peak) from /proc, median of RUNS
# starts. Uses workspace $WORKSPACE (default bench-memory) and listens on
# $PARLEY_ADDR (default 127.0.0.1:18580).
set -euo pipefail
cd "$(dirname "$0")/.."
set -a
# shellcheck disable=SC1091
source .parley-db.env
set +a
export PARLEY_LOG_FORMAT=text PARLEY_LOG_LEVEL=warn
BIN=bin/parley
WORKSPACE="${WORKSPACE:-bench-memory}"
RUNS="${RUNS:-3}"
export PARLEY_ADDR="${PARLEY_ADDR:-127.0.0.1:18580}"
BASE="http://127.0.0.1:${PARLEY_ADDR##*:}"
SAMPLE=evals/suites/sample/knowledge

"$BIN" ingest "$SAMPLE/faq.csv" "$SAMPLE/examples.csv" "$SAMPLE/conversations.jsonl" "$SAMPLE/articles" \
	--kb bramble --workspace "$WORKSPACE" --prune >/dev/null
key=$("$BIN" keys create --workspace "$WORKSPACE" --role widget --name bench-memory 2>/dev/null | tail -n1)

kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$2/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >/tmp/bench-memory.$$
for run in $(seq "$RUNS"); do
	"$BIN" serve &
	pid=$!
	for _ in $(seq 600); do
		curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	sleep 1 # let start-up work settle
	start_rss=$(kb VmRSS $pid)
	for q in "How long does delivery to Germany take?" "Can I return a plant?" "Wie lange dauert der Versand?"; do
		curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
			-d "{\"message\": {\"text\": \"$q\"}}" "$BASE/v1/answer" >/dev/null
	done
	echo "$start_rss $(kb VmRSS $pid) $(kb VmHWM $pid)" >>/tmp/bench-memory.$$
	kill -TERM $pid
	wait $pid || true
done
echo "parley serve, workspace $WORKSPACE (sample knowledge), $RUNS starts; medians in MB:"
printf 'after start (ready)  RSS %d\n' $(( $(cut -d' ' -f1 /tmp/bench-memory.$$ | median) / 1024 ))
printf 'after 3 answers      RSS %d\n' $(( $(cut -d' ' -f2 /tmp/bench-memory.$$ | median) / 1024 ))
printf 'peak (VmHWM)             %d\n' $(( $(cut -d' ' -f3 /tmp/bench-memory.$$ | median) / 1024 ))
rm -f /tmp/bench-memory.$$
"$BIN" keys revoke "${key:0:11}" >/dev/null
