#!/usr/bin/env bash
# make demo: load the sample knowledge into the "demo" workspace, start
# parley serve on :8080 and print curl commands that work against it.
# Safe to run again: keys are reused, unchanged knowledge is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a
# shellcheck disable=SC1091
source .parley-db.env
set +a
export PARLEY_LOG_FORMAT="${PARLEY_LOG_FORMAT:-text}"
export PARLEY_WORKSPACE=demo
BIN=bin/parley
ADDR="${PARLEY_ADDR:-:8080}"
BASE="http://127.0.0.1:${ADDR##*:}"
SAMPLE=evals/suites/sample/knowledge
KEYS=.parley-demo-keys

if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
	echo "demo: something already answers on $BASE; stop it or set PARLEY_ADDR=:PORT" >&2
	exit 1
fi

"$BIN" migrate

# One key per role, kept in $KEYS and reused while still active.
declare -A key
if [ -f "$KEYS" ]; then
	# shellcheck disable=SC1090
	source "$KEYS"
fi
active=$("$BIN" keys list --workspace demo 2>/dev/null | awk '$NF != "" && $0 ~ /active/ {print $2}' || true)
: >"$KEYS.new"
for role in widget agent admin; do
	var="${role}_key"
	k="${!var:-}"
	if [ -z "$k" ] || ! grep -qx "${k:0:11}" <<<"$active"; then
		k=$("$BIN" keys create --workspace demo --role "$role" --name "demo $role" 2>/dev/null | tail -n1)
	fi
	key[$role]=$k
	echo "${var}=$k" >>"$KEYS.new"
done
mv "$KEYS.new" "$KEYS"

"$BIN" ingest "$SAMPLE/faq.csv" "$SAMPLE/examples.csv" "$SAMPLE/conversations.jsonl" "$SAMPLE/articles" --kb bramble --prune

"$BIN" serve --addr "$ADDR" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM
for _ in $(seq 1 100); do
	curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "$BASE/readyz" >/dev/null

# The chat widget on a sample shop page served from another origin (so CORS
# is really used): a widget key allowed on that origin only, kept in $KEYS.
PAGE_ADDR="${PARLEY_DEMO_PAGE_ADDR:-127.0.0.1:8081}"
PAGE_PORT="${PAGE_ADDR##*:}"
PAGE_URL="http://127.0.0.1:$PAGE_PORT"
origins="[\"$PAGE_URL\", \"http://localhost:$PAGE_PORT\"]"
page_key="${page_key:-}"
page_key_id="${page_key_id:-}"
if [ -n "$page_key" ] && grep -qx "${page_key:0:11}" <<<"$active" &&
	curl -fsS -X PUT "$BASE/v1/widget-keys/$page_key_id" -H "Authorization: Bearer ${key[admin]}" \
		-H 'Content-Type: application/json' -d "{\"allowed_origins\": $origins}" >/dev/null 2>&1; then
	:
else
	made=$(curl -fsS -X POST "$BASE/v1/widget-keys" -H "Authorization: Bearer ${key[admin]}" \
		-H 'Content-Type: application/json' -d "{\"name\": \"demo page\", \"allowed_origins\": $origins}")
	page_key=$(sed -E 's/.*"key": *"([^"]+)".*/\1/' <<<"$made")
	page_key_id=$(sed -E 's/.*"id": *"([^"]+)".*/\1/' <<<"$made")
fi
printf 'page_key=%s\npage_key_id=%s\n' "$page_key" "$page_key_id" >>"$KEYS"
PARLEY_DEMO_PAGE_ADDR="$PAGE_ADDR" "$BIN" demo-page --api "$BASE" --key "$page_key" &
page=$!
trap 'kill -TERM $server $page 2>/dev/null; wait $server $page' INT TERM

# Route sensitive topics to people, whatever the score.
curl -fsS -X PUT "$BASE/v1/workspace/settings" -H "Authorization: Bearer ${key[admin]}" \
	-H 'Content-Type: application/json' \
	-d '{"sensitive": ["refund_request", "delete_account", "legal_complaint", "chargeback", "legal"], "languages": ["en", "de", "fr", "es"]}' >/dev/null

cat <<MSG

Parley is serving the Bramble & Co. sample knowledge on $BASE (Ctrl-C stops it).
The chat widget, on a sample shop page of another origin: $PAGE_URL
The console (inbox, knowledge, analytics): $BASE/app/
  sign in with the admin key ${key[admin]}
  (or, for the inbox only, the agent key ${key[agent]})
Keys are in $KEYS. Try:

# a routine question, answered from the FAQ with sources and a confidence
curl -s $BASE/v1/answer -H 'Authorization: Bearer ${key[widget]}' -H 'Content-Type: application/json' \\
  -d '{"customer": {"id": "c-42", "name": "Jana"}, "channel": "web", "message": {"text": "How long does delivery to Germany take?"}}'

# a customer asking for a person: escalated to a team with the full context
curl -s $BASE/v1/answer -H 'Authorization: Bearer ${key[widget]}' -H 'Content-Type: application/json' \\
  -d '{"customer": {"id": "c-43"}, "message": {"text": "I want to talk to a real person please"}}'

# the transcript of a conversation (agent key; use a conversation_id from above)
curl -s $BASE/v1/conversations/CONVERSATION_ID -H 'Authorization: Bearer ${key[agent]}'

# a paraphrase the FAQ does not spell out, answered through its example questions
curl -s $BASE/v1/answer -H 'Authorization: Bearer ${key[widget]}' -H 'Content-Type: application/json' \\
  -d '{"message": {"text": "Which houseplants are safe for my cat?"}}'

# suggested replies for an agent; the first cites a page of the sample PDF
# ("section": "Before you leave > Page 1")
curl -s $BASE/v1/suggestions -H 'Authorization: Bearer ${key[agent]}' -H 'Content-Type: application/json' \\
  -d '{"messages": [{"role": "customer", "text": "I am going on holiday for two weeks. How do I keep my plants watered while I am away?"}]}'

# the knowledge bases (admin key)
curl -s $BASE/v1/knowledge-bases -H 'Authorization: Bearer ${key[admin]}'

# how well this knowledge answers the sample suite, with reports in eval-out/
#   bin/parley eval evals/suites/sample/suite.json

MSG
status=0
wait $server || status=$?
kill -TERM $page 2>/dev/null || true
exit $status
