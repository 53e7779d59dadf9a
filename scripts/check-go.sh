#!/usr/bin/env bash
# Fails with one clear sentence when Go is missing or older than go.mod needs,
# then downloads the module dependencies (from the Go module proxy) if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
need=$(awk '/^go /{print $2}' go.mod)
if ! command -v go >/dev/null 2>&1; then
	echo "check-go: Go $need or newer is required and 'go' is not on PATH; install it from https://go.dev/dl and add /usr/local/go/bin to PATH." >&2
	exit 1
fi
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
	echo "check-go: Go $need or newer is required, found $have." >&2
	exit 1
fi
go mod download
