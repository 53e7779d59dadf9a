# Two commands matter: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/parley
DBENV := .parley-db.env

.PHONY: demo test lint test-faults build db chromium bench-analytics bench-widget check-go bench-ingest bench-quality bench-answer bench-crawl bench-learning bench-fewshot clean

## demo: set up PostgreSQL + pgvector, load the sample knowledge and serve on :8080
demo: build db
	scripts/demo.sh

## test: set up the database if needed, then lint (go vet, staticcheck) and go test -race against it
test: check-go db chromium lint
	set -a; source $(DBENV); set +a; $(GO) test -race -count=1 ./...

## lint: go vet, then staticcheck at a pinned version (installed from the Go module proxy into bin/);
## deliberate exceptions are marked in the code with //lint:ignore and a reason
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)
lint: check-go $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	mkdir -p bin
	GOBIN=$(CURDIR)/bin/.staticcheck $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv bin/.staticcheck/staticcheck $@
	rmdir bin/.staticcheck

## test-faults: kill -9 and PostgreSQL restarts under load, adversarial text, on a cluster of its own (port 18150; see RELIABILITY.md)
test-faults: check-go db
	scripts/test-faults.sh

## build: compile bin/parley
build: check-go
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/parley

## bench-ingest: time loading Banking77 train: pipeline vs bare COPY, re-ingest (see BENCHMARKS.md)
BANKING77 ?= $(CURDIR)/../shared/datasets/banking77
BENCH_RUNS ?= 3
bench-ingest: check-go db
	set -a; source $(DBENV); set +a; PARLEY_BANKING77=$(BANKING77) PARLEY_BENCH_RUNS=$(BENCH_RUNS) \
		$(GO) test -run TestIngestBenchmarkBanking77 -v -count=1 -timeout 30m ./ingest/

## bench-crawl: crawl a generated local help center of 2,000 pages, then re-crawl it unchanged (see BENCHMARKS.md)
BENCH_PAGES ?= 2000
bench-crawl: check-go db
	set -a; source $(DBENV); set +a; PARLEY_BENCH_CRAWL=1 PARLEY_BENCH_PAGES=$(BENCH_PAGES) PARLEY_BENCH_RUNS=$(BENCH_RUNS) \
		$(GO) test -run TestCrawlBenchmark -v -count=1 -timeout 30m ./ingest/crawl/

## bench-scale-ingest: first load (with ANSWER_RATE answers/s meanwhile, asked by a process of their own) and re-ingest of generated FAQ knowledge at SIZES entries (see BENCHMARKS.md);
## index builds use the server's parallel workers as the product's do, or none with SERIAL=1
SIZES ?= 10000,100000
ANSWER_RATE ?= 50
SERIAL ?=
bench-scale-ingest: check-go db
	set -a; source $(DBENV); set +a; PARLEY_SCALE_ENTRIES=$(SIZES) PARLEY_SCALE_ANSWER_RATE=$(ANSWER_RATE) PARLEY_SCALE_SERIAL=$(SERIAL) \
		$(GO) test -run TestIngestScale -v -count=1 -timeout 60m ./ingest/

## bench-scale-workspaces: vector search for one workspace among WORKSPACES (and alone): p50/p99, recall@10, per layout (see BENCHMARKS.md);
## SKIP_SHARED=1 leaves out the shared HNSW index (its build is most of the time at 1,000 workspaces)
WORKSPACES ?= 1000
SKIP_SHARED ?=
bench-scale-workspaces: check-go db
	set -a; source $(DBENV); set +a; PARLEY_SCALE_WORKSPACES=1,$(WORKSPACES) PARLEY_SCALE_WS_SKIP_SHARED=$(SKIP_SHARED) \
		nice -n 10 $(GO) test -run TestScaleWorkspacesBenchmark -v -count=1 -timeout 180m ./postgres/

## bench-scale-train: intent classifier training time and accuracy on generated questions at SIZES (see BENCHMARKS.md)
bench-scale-train: check-go
	PARLEY_SCALE_TRAIN=$(SIZES) $(GO) test -run TestTrainScale -v -count=1 -timeout 60m ./retrieval/

## bench-quality: run the Banking77 suite (train as knowledge, test as cases) and write eval-out/banking77
bench-quality: build db
	set -a; source $(DBENV); set +a; $(BIN) eval evals/suites/banking77/suite.json --out eval-out/banking77

## bench-learning: Banking77 from 1 example per intent, then 1, 3 and 10 more taught through resolutions over the API (hit@1, coverage @95%)
bench-learning: check-go db
	set -a; source $(DBENV); set +a; PARLEY_BANKING77=$(BANKING77) \
		nice -n 10 $(GO) test -run TestLearningCurveBanking77 -v -count=1 -timeout 60m ./evals/

## bench-fewshot: Banking77 with 1, 2, 4 and 11 examples per intent uploaded as knowledge (bench-learning's control arm alone, minutes)
bench-fewshot: check-go db
	set -a; source $(DBENV); set +a; PARLEY_BANKING77=$(BANKING77) \
		nice -n 10 $(GO) test -run TestFewShotBanking77 -v -count=1 -timeout 30m ./evals/

## bench-answer: engine vs bare search, then 16 clients at 300 requests/s on /v1/answer (Banking77 knowledge)
bench-answer: build db
	set -a; source $(DBENV); set +a; PARLEY_LOG_LEVEL=warn $(BIN) bench evals/suites/banking77/suite.json --clients 16 --rate 300 --duration 20s

## chromium: install Debian's chromium for the browser tests (web/browsertest) when missing
chromium:
	scripts/install-chromium.sh

## bench-analytics: the 30-day analytics summary over 1,000,000 generated messages (see BENCHMARKS.md)
ANALYTICS_CONVERSATIONS ?= 250000
bench-analytics: check-go db
	set -a; source $(DBENV); set +a; PARLEY_BENCH_ANALYTICS=$(ANALYTICS_CONVERSATIONS) \
		$(GO) test -run TestAnalyticsBenchmark -v -count=1 -timeout 30m ./postgres/

## bench-widget: 1,000 open visitor streams on one parley serve; agent replies delivered p99 <= 1 s; memory per stream
WIDGET_VISITORS ?= 1000
WIDGET_RATE ?= 100
bench-widget: build db
	set -a; source $(DBENV); set +a; PARLEY_BENCH_WIDGET=$(WIDGET_VISITORS) PARLEY_BENCH_WIDGET_RATE=$(WIDGET_RATE) \
		PARLEY_BENCH_WIDGET_BIN=$(CURDIR)/$(BIN) $(GO) test -run TestWidgetStreamsBenchmark -v -count=1 -timeout 20m ./web/

## bench-memory: resident memory of parley serve after start with the sample knowledge (see BENCHMARKS.md)
bench-memory: build db
	scripts/bench-memory.sh

## db: install/start PostgreSQL with pgvector and write $(DBENV)
db:
	scripts/db-setup.sh >/dev/null

check-go:
	@scripts/check-go.sh

clean:
	rm -rf bin $(DBENV)
