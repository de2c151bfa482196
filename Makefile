# posd — make run (build and serve on ./data), make test (everything).
GO        ?= go
BIN       := bin/posd
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
DATA_DIR  ?= ./data
LISTEN    ?= :8080
FUZZTIME  ?= 5s
# Every fuzz target of the API, one per POST body; each runs FUZZTIME.
FUZZ_TARGETS := FuzzCreateSale FuzzCreateToken FuzzCreateLocation FuzzCreateProduct FuzzAdjustStock \
	FuzzRefundSale FuzzCreateReceipt FuzzApproveReceipt FuzzCreateTransfer FuzzSendTransfer FuzzReceiveTransfer

.PHONY: build run test test-go test-fault test-fuzz test-long lint clean measure-backup

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/posd

run: build
	$(BIN) serve --data-dir $(DATA_DIR) --listen $(LISTEN)

## test: everything CI runs.
test: lint test-go test-fault test-fuzz

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test-go:
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -v /cmd/posd-fault)

## test-fault: the fault harness's short profiles and its sensitivity to
## broken builds. Without the race detector: the harness drives a posd
## child process, and race-checking the harness's own goroutines would
## double its time for little gain.
test-fault:
	$(GO) test -count=1 -timeout 15m ./cmd/posd-fault

test-fuzz:
	@for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./api/ || exit 1; \
	done

## test-long: the long fault profiles (300 kill -9 cycles, a minute-long
## outage, …) and a longer fuzz; about an hour on a 2-core machine.
test-long:
	$(GO) test -count=1 -timeout 3h -v -run 'TestFaults|TestSensitivity' ./cmd/posd-fault -args -long
	$(MAKE) test-fuzz FUZZTIME=60s

## measure-backup: how long backup and verify take on a database of SALES
## sales, and the write latency during a backup under load (slow, not in
## make test). The database is kept in MEASURE_DIR for reruns.
SALES       ?= 1000000
MEASURE_DIR ?= /tmp/posd-measure-$(SALES)
measure-backup:
	mkdir -p $(MEASURE_DIR)
	POSD_MEASURE_SALES=$(SALES) POSD_MEASURE_DIR=$(MEASURE_DIR) $(GO) test -count=1 -run '^TestMeasureBackup$$' -v -timeout 3h ./cmd/posd/

clean:
	rm -rf bin
