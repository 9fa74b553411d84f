# flarehose — build, demo, test. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/flarehose
SHARED ?= ../shared
GOFLAGS_TEST ?= -count=1 -timeout 20m
FUZZTIME ?= 10s

.PHONY: help build demo test unit lint conformance bench bench-e2e fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/flarehose
	$(GO) build -trimpath -o $(BIN) ./cmd/flarehose

demo: build ## run the demo: simulated Cloudflare traffic into the UI at http://127.0.0.1:8080
	./$(BIN) demo

test: lint unit conformance ## run every test (what CI runs)

lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l cmd internal); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit: ## unit, golden, HTTP, crash-recovery and end-to-end tests
	$(GO) test $(GOFLAGS_TEST) ./...

conformance: build ## Elastic pipeline fixtures, every data stream (needs ../shared; skipped without it)
	@if [ -x $(SHARED)/conformance/check ]; then \
		python3 $(SHARED)/conformance/check --bin $(BIN) --min 99; \
	else echo "conformance: $(SHARED) not found, skipped"; fi

bench: ## Go benchmarks (normalize, queue, store, receiver, simulator)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

bench-e2e: build ## end-to-end load: simulator -> receiver -> queue -> DuckDB, prints events/s and RSS
	./$(BIN) bench

fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./internal/...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; done

clean: ## remove build output
	rm -rf bin
