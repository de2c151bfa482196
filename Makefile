# posd — make run (build and serve on ./data), make test (everything).
GO        ?= go
BIN       := bin/posd
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
DATA_DIR  ?= ./data
LISTEN    ?= :8080
# HTTPS beside HTTP, from the shop's own CA (make run TLS_LISTEN= turns it off).
TLS_LISTEN ?= :8443
# Fuzz budgets are execution counts, not durations: with a duration, Go
# 1.26's fuzz coordinator can report its own deadline as a failure
# ("context deadline exceeded", no failing input; golang/go#75804, fixed in
# Go 1.27). 5000 executions take about 2-5 s per target here.
FUZZTIME  ?= 5000x
# Every fuzz target of the API, one per POST body; each runs FUZZTIME.
FUZZ_TARGETS := FuzzCreateSale FuzzCreateToken FuzzCreateLocation FuzzCreateProduct FuzzAdjustStock \
	FuzzRefundSale FuzzCreateReceipt FuzzApproveReceipt FuzzCreateTransfer FuzzSendTransfer FuzzReceiveTransfer \
	FuzzCreateCashier FuzzApprove FuzzOpenShift FuzzCashMovement FuzzCloseShift FuzzCreateZReport \
	FuzzCreatePairingCode FuzzPair FuzzBackupNow FuzzImportProducts

.PHONY: build run test test-go test-fault test-fuzz test-long test-browser lint clean measure-backup bench bench-go bench-pg bench-wrk postgres measure-migrate

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/posd

run: build
	$(BIN) serve --data-dir $(DATA_DIR) --listen $(LISTEN) $(if $(TLS_LISTEN),--tls-listen $(TLS_LISTEN))

## test: everything CI runs.
test: lint test-go test-fault test-fuzz test-browser

## lint: gofmt and vet, for Linux and for the other systems posd runs on
## (Windows, macOS): everything must build and vet there too.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...

## postgres: Debian's PostgreSQL server binaries, which the PostgreSQL
## tests run throwaway clusters of; installed with apt-get when missing.
## POSD_REQUIRE_PG makes those tests fail, never skip, without them.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing Debian's postgresql"; DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
export POSD_REQUIRE_PG := 1

test-go: postgres
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -v /cmd/posd-fault)
	POSD_TEST_BACKEND=postgres $(GO) test -race -count=1 -timeout 10m ./api/

## test-fault: the fault harness's short profiles and its sensitivity to
## broken builds. Without the race detector: the harness drives a posd
## child process, and race-checking the harness's own goroutines would
## double its time for little gain.
test-fault: postgres
	$(GO) test -count=1 -timeout 15m ./cmd/posd-fault

test-fuzz:
	@for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./api/ || exit 1; \
	done

## test-long: the long fault profiles (300 kill -9 cycles, a minute-long
## outage, …) and a longer fuzz; about 25 minutes on a 2-core machine.
test-long:
	$(GO) test -count=1 -timeout 3h -v -run 'TestFaults|TestSensitivity' ./cmd/posd-fault -args -long
	$(MAKE) test-fuzz FUZZTIME=500000x

## test-browser: the till's JS unit tests (node --test), the till's and the
## back office's browser tests in Debian's Chromium against a real posd;
## installs chromium, and certutil (libnss3-tools, for the HTTPS test's
## trust store), only if absent. POSD_SCREENSHOTS=1 also refreshes the
## office's screenshots in api/office/screenshots (the README's).
TILL_E2E := api/till/e2e
test-browser:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium"; DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v certutil >/dev/null || { echo "installing Debian's libnss3-tools (certutil)"; DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnss3-tools >/dev/null; }
	cd $(TILL_E2E) && npm ci --no-audit --no-fund --loglevel=error
	cd $(TILL_E2E) && node --test unit/
	cd $(TILL_E2E) && node --test --test-concurrency=1 browser/
	cd $(TILL_E2E) && node --test --test-concurrency=1 office/

## measure-backup: how long backup and verify take on a database of SALES
## sales, and the write latency during a backup under load (slow, not in
## make test). The database is kept in MEASURE_DIR for reruns.
SALES       ?= 1000000
MEASURE_DIR ?= /tmp/posd-measure-$(SALES)
measure-backup:
	mkdir -p $(MEASURE_DIR)
	POSD_MEASURE_SALES=$(SALES) POSD_MEASURE_DIR=$(MEASURE_DIR) $(GO) test -count=1 -run '^TestMeasureBackup$$' -v -timeout 3h ./cmd/posd/

## measure-migrate: posd migrate both ways (embedded → PostgreSQL → embedded)
## on the SALES-sale database in MEASURE_DIR (seeded by posd-load seed when
## missing), each verified and compared object by object; slow, not in make test.
measure-migrate: build postgres
	$(GO) build -o bin/posd-load ./cmd/posd-load
	test -f $(MEASURE_DIR)/posd.db || bin/posd-load seed --data-dir $(MEASURE_DIR) --sales $(SALES)
	POSD_MEASURE_MIGRATE=$(MEASURE_DIR) $(GO) test -count=1 -run '^TestMeasureMigrate$$' -v -timeout 3h ./cmd/posd/

## bench: every figure of BENCHMARKS.md in one run (posd at 1, 16 and 64 tills beside the
## seed-design PostgreSQL yardstick and the bare-HTTP ceiling, the drain, 1 million sales).
## The large database is seeded once into bench-data/1m and kept. BENCHFLAGS passes more
## flags to posd-load suite (e.g. BENCHFLAGS=--skip-pg).
bench: build
	$(GO) build -o bin/posd-load ./cmd/posd-load
	bin/posd-load suite --posd $(BIN) --out bench-data/results.json $(BENCHFLAGS)

## bench-pg: posd on PostgreSQL at 1, 16 and 64 tills, with one and with two
## posd processes on one database, beside the seed design's pgbench on the
## same throwaway server (fsync and synchronous_commit on), in rounds.
PGROUNDS ?= 2
bench-pg: build postgres
	$(GO) build -o bin/posd-load ./cmd/posd-load
	bin/posd-load bench-pg --posd $(BIN) --rounds $(PGROUNDS) --out bench-data/pg-results.json

## bench-wrk: Debian's wrk (installed with apt-get only if absent) at 1 and 64 connections
## against posd, the bare net/http echo and the seed design on PostgreSQL, side by side,
## then every acknowledged sale checked stored once. WRKFLAGS passes more flags to
## posd-load wrk (e.g. WRKFLAGS='--profile bench-data/pprof' or --skip-pg).
bench-wrk: build
	@command -v wrk >/dev/null || { echo "installing Debian's wrk"; DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(GO) build -o bin/posd-load ./cmd/posd-load
	bin/posd-load wrk --posd $(BIN) --out bench-data/wrk.json $(WRKFLAGS)

## bench-go: the Go benchmarks of the write path, six times each, for benchstat.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 3000x -count 6 ./engine/boltstore ./api

clean:
	rm -rf bin
