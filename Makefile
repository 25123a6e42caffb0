# ResilientPostgres: build, test and demo with throwaway PostgreSQL clusters on 127.0.0.1.
# Run `make` for the list of targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SWIFT ?= swift
# Extra flags for `swift test`, e.g. make test SWIFT_TEST_FLAGS='--filter PolicyTests'
SWIFT_TEST_FLAGS ?=
# Options for the benchmark, e.g. make bench ARGS=--pin, or ARGS='--rounds 5 --workloads seq_param'
ARGS ?=
# Extra flags for building the benchmark, e.g. BENCH_BUILD_FLAGS='-Xswiftc -g'
BENCH_BUILD_FLAGS ?=

EXAMPLE_MANIFESTS := $(wildcard Examples/*/Package.swift)
# Example packages with tests of their own, run against a fresh `main` cluster.
EXAMPLE_TEST_DIRS := $(patsubst %/Tests,%,$(wildcard Examples/*/Tests))

# Sanitizers for `make test-sanitize` (thread, address), each with its own build directory (.build-tsan, .build-asan).
SANITIZERS ?= thread address
# Sanitized tests run one at a time: a sanitizer slows everything down several times over, and on a loaded 2-core
# machine tests that bound their time (a cancel answered within a second) then fail for want of CPU alone.
SANITIZE_TEST_FLAGS ?= --no-parallel
# The targets whose tests need no server (those that do are skipped without the POSTGRES_* variables), and the
# transport's suites that need none (a row stream's hand-over of its batch's memory, unchecked reads of values, the
# I/O thread's jobs and socket waits).
SANITIZE_TRANSPORT_UNIT_SUITES := RowBatchTests|QueryResultValueTests|CommandTagTests|IOThread|SocketReadinessTests
SANITIZE_UNIT_FILTER ?= PostgresPolicyTests|ResilientPostgresTests|ResilientPostgresTestingTests|$(SANITIZE_TRANSPORT_UNIT_SUITES)

# `make fuzz`: seconds per libFuzzer target, and the targets (Fuzz/Sources/*).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzConnectionString FuzzDecoding

# `make soak MINUTES=N`: how long, and how often the server is restarted (seconds between restarts); HA=1 for a
# pg_auto_failover formation failed over instead.
MINUTES ?= 5
RESTART_EVERY ?= 25

# `make demo-ha`: how many rounds of the three kinds of failover.
HA_ROUNDS ?= 1
# `make bank`: disruptions in each of its four runs, and the cluster it runs against (ha, scripted, restarts, all).
BANK_FAILOVERS ?= 2
BANK_CLUSTER ?= ha
# `make fleet`: options of the Fleet, e.g. FLEET_ARGS="--clients 200 --connect-limit none".
FLEET_ARGS ?=

# `make simulate`: how many seeded schedules, from which seed (a number, `fixed` for CI's sample, or empty for a
# random base, printed); SEED=n replays one schedule verbosely.
SCHEDULES ?= 10000
SEED_BASE ?=
SEED ?=

DOC_TARGETS := ResilientPostgres ResilientPostgresTesting PostgresPolicy PostgresTransport

.PHONY: help build test test-examples test-sanitize test-sanitize-unit fuzz soak simulate docs demo quickstart bench servers-stop clean \
	demo-ha bank fleet test-ha

help: ## List the targets
	@echo "usage: make TARGET"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN { FS = ":.*## " } { printf "  %-14s %s\n", $$1, $$2 }'

build: ## Build the package
	$(SWIFT) build

test: ## Run the tests against fresh servers, then build every example package and the docs; prints a summary
	@SWIFT="$(SWIFT)" scripts/run-tests.sh $(SWIFT_TEST_FLAGS)
	@$(MAKE) --no-print-directory test-examples
	@scripts/quietly.sh docs $(MAKE) --no-print-directory docs

test-examples: ## Build every Examples/*/ package, and run the tests of those that have some
	@if [ -z "$(EXAMPLE_MANIFESTS)" ]; then echo "no example packages under Examples/"; fi
	@for manifest in $(EXAMPLE_MANIFESTS); do \
		dir="$${manifest%/Package.swift}"; \
		scripts/quietly.sh "build $$dir" $(SWIFT) build --package-path "$$dir"; \
	done
	@for dir in $(EXAMPLE_TEST_DIRS); do \
		TEST_CLUSTERS=main scripts/quietly.sh "test $$dir" \
			scripts/with-test-servers.sh $(SWIFT) test --package-path "$$dir"; \
	done

test-ha: ## Short demo-ha, bank and fleet against pg_auto_failover and a small server (CI runs it after `make test`)
	scripts/test-ha.sh

test-sanitize: ## Run the tests under ThreadSanitizer, then AddressSanitizer, each against fresh clusters
	SWIFT="$(SWIFT)" scripts/test-sanitize.sh $(SANITIZERS) -- $(SANITIZE_TEST_FLAGS) $(SWIFT_TEST_FLAGS)

test-sanitize-unit: ## Run the tests that need no server under ThreadSanitizer (what CI adds to `make test`)
	TEST_CLUSTERS= SWIFT="$(SWIFT)" scripts/test-sanitize.sh thread -- $(SANITIZE_TEST_FLAGS) \
		--filter '$(SANITIZE_UNIT_FILTER)'

fuzz: ## Fuzz connection strings and row decoding with libFuzzer for FUZZ_SECONDS (60) per target
	SWIFT="$(SWIFT)" FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)

soak: ## Run mixed operations for MINUTES (5) while restarting the server every RESTART_EVERY (25) s (HA=1: failing a pg_auto_failover formation over instead)
	$(SWIFT) build -c release --package-path Soak --scratch-path .build-soak
	$(if $(filter 1,$(HA)),scripts/install-deps.sh && HA_RUN_TIMEOUT=$${HA_RUN_TIMEOUT:-86400} scripts/ha-cluster.sh run,TEST_CLUSTERS=soak scripts/with-test-servers.sh) "$(CURDIR)/.build-soak/release/Soak" \
		--minutes $(MINUTES) --restart-every $(RESTART_EVERY)

simulate: ## Check the client's promises under SCHEDULES (10000) seeded random fault schedules; SEED=n replays one
	$(SWIFT) build -c release --product ResilientPostgresSimulator
	@simulator="$$($(SWIFT) build -c release --show-bin-path)/ResilientPostgresSimulator"; \
	if [ -n "$(SEED)" ]; then "$$simulator" --seed $(SEED); \
	else "$$simulator" --schedules $(SCHEDULES) $(if $(SEED_BASE),--seed-base $(SEED_BASE)); fi

docs: ## Build the DocC documentation; any warning fails
	$(SWIFT) package generate-documentation $(foreach target,$(DOC_TARGETS),--target $(target)) --warnings-as-errors

demo: ## Writers through a failover (primary killed, standby promoted): prints a timeline and lost=0 duplicated=0 unknown=0 (ARGS=--plain: plain writes)
	TEST_CLUSTERS="demo-primary demo-standby=standby:demo-primary" scripts/with-test-servers.sh scripts/run-failover-demo.sh $(ARGS)

demo-ha: ## Writers through 3 pg_auto_failover failovers (crash, partition, switchover): lost=0 duplicated=0 failovers=3
	scripts/run-ha-check.sh HADemo $(HA_ROUNDS)

bank: ## Transfers between 100 accounts through failovers, per isolation and commit verification: balance_ok=true lost=0 (BANK_CLUSTER=ha, scripted, restarts or all)
	scripts/run-bank.sh $(BANK_CLUSTER) $(BANK_FAILOVERS)

fleet: ## 200 clients (pools of 4) against max_connections=50 through restarts and a failover: failed=0, connect rates
	scripts/run-fleet.sh $(FLEET_ARGS)

quickstart: ## Run the Quickstart example against a fresh cluster
	TEST_CLUSTERS=main scripts/with-test-servers.sh scripts/run-quickstart.sh

bench: ## Benchmark against raw libpq and postgres-nio on a fresh cluster (ARGS=--pin: one CPU)
	$(SWIFT) build -c release --package-path Benchmarks $(BENCH_BUILD_FLAGS)
	BENCH_BINARY="$$($(SWIFT) build -c release --package-path Benchmarks --show-bin-path)/ResilientPostgresBenchmarks" \
		TEST_CLUSTERS=main scripts/with-test-servers.sh scripts/run-benchmarks.sh $(ARGS)

servers-stop: ## Stop every cluster this checkout started and delete their state
	scripts/pg-cluster.sh stop-all

clean: servers-stop ## Stop the clusters and remove build output
	rm -rf .build .build-tsan .build-asan .build-fuzz .build-soak $(wildcard Examples/*/.build) Benchmarks/.build
