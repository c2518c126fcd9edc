# alertd's developer and CI targets. CI (.ci/run) runs "make deps lint test",
# then "make fuzz FUZZTIME=3000x".

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO ?= go
# Packages for test, bench and lint; e.g. make test PKGS=./internal/testenv/...
PKGS ?= ./...
TEST_TIMEOUT ?= 12m
TEST_FLAGS ?=
BENCH ?= .
BENCH_FLAGS ?=
# How long make fuzz runs each Fuzz target; CI runs make fuzz FUZZTIME=3000x.
FUZZTIME ?= 2m
FUZZFLAGS ?=

BIN_DIR := $(CURDIR)/bin
# Tools go into GOBIN when it is set, else into ./bin.
TOOLS_BIN := $(or $(GOBIN),$(BIN_DIR))
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint

# The real components the tests run (DESIGN.md, "Testing: real components").
DEB_PACKAGES := prometheus prometheus-alertmanager victoria-metrics chromium
DEB_BINARIES := prometheus promtool prometheus-alertmanager amtool vmalert victoria-metrics chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Go files to format-check: everything but build output and test fixtures.
FIND_GO_FILES := find . -name '*.go' -not -path './.git/*' -not -path './bin/*' -not -path './data/*' -not -path '*/testdata/*' -print0

.PHONY: build test lint golangci-lint fmt bench fuzz demo deps clean

build:
	$(GO) build -o bin/alertd ./cmd/alertd

test: deps
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) $(PKGS)

lint: golangci-lint
	@echo "gofmt -s -l"; \
	unformatted="$$($(FIND_GO_FILES) | xargs -0 -r gofmt -s -l)"; \
	if [ -n "$$unformatted" ]; then \
		echo "these files are not gofmt -s formatted (run make fmt):"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet $(PKGS)
	$(GOLANGCI_LINT) config verify
	$(GOLANGCI_LINT) run $(PKGS)

# Installs the pinned golangci-lint unless that version is already there.
golangci-lint:
	@if ! "$(GOLANGCI_LINT)" version 2>/dev/null | grep -qF "version $(GOLANGCI_LINT_VERSION:v%=%) "; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(TOOLS_BIN)"; \
		GOBIN="$(TOOLS_BIN)" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi

fmt:
	$(FIND_GO_FILES) | xargs -0 -r gofmt -s -w

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(BENCH_FLAGS) $(PKGS)

# alertd side by side with Prometheus's rule manager, vmalert and
# Alertmanager 0.25 (bench/peers): about 15 minutes, the report goes into
# docs/benchmarks.md ("Side by side") and to stdout. SHORT=1 is a quick
# check (under 3 minutes) that only prints; BENCH_PEERS_FLAGS adds flags,
# e.g. BENCH_PEERS_FLAGS='-scenarios notify,e2e -out /tmp/peers.md'. Installs
# the peers' Debian packages if one is missing, as deps does, without deps's
# other packages.
SHORT ?=
BENCH_PEERS_FLAGS ?=
PEER_PACKAGES := prometheus prometheus-alertmanager victoria-metrics
PEER_BINARIES := prometheus prometheus-alertmanager vmalert

.PHONY: bench-peers
bench-peers: build
	@missing=""; \
	for b in $(PEER_BINARIES); do command -v "$$b" >/dev/null || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
		echo "bench-peers: missing$$missing; installing $(PEER_PACKAGES)"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(PEER_PACKAGES); \
	fi
	$(GO) run ./bench/peers -alertd bin/alertd $(if $(filter-out 0,$(SHORT)),-short) $(BENCH_PEERS_FLAGS)

# Runs every Fuzz target of every package for FUZZTIME each (go test -fuzz
# takes one target of one package at a time), e.g. make fuzz FUZZTIME=10m;
# FUZZFLAGS adds flags, e.g. FUZZFLAGS='-parallel 1'. Runs them all, then
# fails if any failed (a crasher is written to the package's
# testdata/fuzz/FuzzXxx/) or a package did not build. docs/fuzzing.md.
fuzz:
	@found=0; failed=""; \
	dirs="$$(grep -rlE --include='*_test.go' '^func Fuzz' . | grep -v -e '^\./bin/' -e '/testdata/' | xargs -r -n1 dirname | sort -u || true)"; \
	for dir in $$dirs; do \
		if ! list="$$($(GO) test -list '^Fuzz' "$$dir" 2>&1)"; then \
			echo "$$list"; failed="$$failed $$dir"; continue; \
		fi; \
		for name in $$(printf '%s\n' "$$list" | grep '^Fuzz' || true); do \
			found=1; \
			echo "== $$dir $$name (-fuzztime $(FUZZTIME))"; \
			if ! $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime '$(FUZZTIME)' $(FUZZFLAGS) "$$dir"; then \
				failed="$$failed $$dir:$$name"; \
			fi; \
		done; \
	done; \
	if [ "$$found" = 0 ]; then echo "no fuzz targets found"; fi; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed"; exit 1; fi

# alertd end to end on this machine (scripts/demo.sh, docs/getting-started.md):
# it needs only Debian's prometheus package, installed here if missing, as
# deps does. DEMO_FLAGS passes flags to the demo, e.g. make demo
# DEMO_FLAGS=-once to exit once the alert has resolved.
DEMO_FLAGS ?=
demo:
	@if ! command -v prometheus >/dev/null; then \
		echo "demo: prometheus is missing; installing Debian's prometheus package"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; \
	fi
	bash scripts/demo.sh $(DEMO_FLAGS)

# Installs the Debian packages of the real components if any binary is
# missing. --no-install-recommends keeps out prometheus-node-exporter, which
# the prometheus package recommends and which would start on :9100.
deps:
	@missing=""; \
	for b in $(DEB_BINARIES); do command -v "$$b" >/dev/null || missing="$$missing $$b"; done; \
	if [ -z "$$missing" ]; then echo "deps: $(DEB_BINARIES) present"; exit 0; fi; \
	echo "deps: missing$$missing; installing $(DEB_PACKAGES)"; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEB_PACKAGES)

# Removes build output; keeps installed tools (bin/golangci-lint).
clean:
	rm -f bin/alertd coverage.out coverage.html coverage.txt *.coverprofile
	find . -name '*.test' -type f -not -path './.git/*' -delete
