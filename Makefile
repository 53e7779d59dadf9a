# Two commands matter: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/parley
DBENV := .parley-db.env

.PHONY: demo test build db check-go vet bench-ingest clean

## demo: set up PostgreSQL + pgvector, load the sample knowledge and serve on :8080
demo: build db
	scripts/demo.sh

## test: set up the database if needed, then go vet and go test -race against it
test: check-go db
	$(GO) vet ./...
	set -a; source $(DBENV); set +a; $(GO) test -race -count=1 ./...

## build: compile bin/parley
build: check-go
	$(GO) build -o $(BIN) ./cmd/parley

## db: install/start PostgreSQL with pgvector and write $(DBENV)
db:
	scripts/db-setup.sh >/dev/null

check-go:
	@scripts/check-go.sh

clean:
	rm -rf bin $(DBENV)
