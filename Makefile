# flarehose — build, demo, test. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/flarehose
SHARED ?= ../shared
GOFLAGS_TEST ?= -count=1 -timeout 20m
FUZZTIME ?= 10s

.PHONY: help build demo test unit lint conformance test-opensearch test-objstore bench bench-e2e bench-opensearch fuzz clean

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/flarehose
	$(GO) build -trimpath -o $(BIN) ./cmd/flarehose

demo: build ## run the demo: simulated Cloudflare traffic into the UI at http://127.0.0.1:8080
	./$(BIN) demo

test: lint unit test-opensearch test-objstore conformance ## run every test (what CI runs): installs and starts OpenSearch, MinIO, fake-gcs-server and Azurite

lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l cmd internal); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit: ## unit, golden, HTTP, crash-recovery and end-to-end tests
	$(GO) test $(GOFLAGS_TEST) ./...

conformance: build ## Elastic pipeline fixtures, every data stream (needs ../shared; skipped without it)
	@if [ -x $(SHARED)/conformance/check ]; then \
		python3 $(SHARED)/conformance/check --bin $(BIN) --min 99; \
	else echo "conformance: $(SHARED) not found, skipped"; fi

test-opensearch: ## Elasticsearch/OpenSearch sink + search tests against a real OpenSearch 2.19 (Maven Central -> .tools/opensearch, 127.0.0.1)
	@url=$$(test/opensearch/start.sh) || exit 1; \
	FLAREHOSE_OPENSEARCH_URL=$$url FLAREHOSE_OPENSEARCH_RESTART=1 \
		$(GO) test -p 1 $(GOFLAGS_TEST) ./internal/sink/elasticsearch/... ./internal/search/esquery/... ./internal/cli/; \
	rc=$$?; test/opensearch/stop.sh; exit $$rc

# Packages whose tests talk to real object stores (they skip without them in `unit`).
OBJSTORE_PKGS := ./internal/objstore/... ./internal/sim/... ./internal/cfclient/... ./internal/cli/...

test-objstore: ## object storage tests against real MinIO (S3/R2), fake-gcs-server (GCS) and Azurite (Azure), installed under .tools/
	@env=$$(test/objstore/start.sh) || { test/objstore/stop.sh; exit 1; }; \
	set -a; eval "$$env"; set +a; \
	FLAREHOSE_REQUIRE_OBJSTORE=1 $(GO) test -p 1 $(GOFLAGS_TEST) $(OBJSTORE_PKGS); \
	rc=$$?; test/objstore/stop.sh; exit $$rc

bench: ## Go benchmarks (normalize, queue, store, receiver, simulator)
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

bench-e2e: build ## end-to-end load: simulator -> receiver -> queue -> DuckDB, prints events/s and RSS
	./$(BIN) bench

bench-opensearch: ## events/s into a real OpenSearch node (~1.5 KB documents)
	@url=$$(test/opensearch/start.sh) || exit 1; \
	FLAREHOSE_OPENSEARCH_URL=$$url $(GO) test -run '^$$' -bench OpenSearchWrite -benchtime 30x ./internal/sink/elasticsearch; \
	rc=$$?; test/opensearch/stop.sh; exit $$rc

fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./internal/...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; done

clean: ## remove build output
	rm -rf bin
