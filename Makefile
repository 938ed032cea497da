# Developer entry points. `make test` is the README's test command: it is .ci/run, which
# installs PostgreSQL and Redis when they are missing and runs go test -race -count=1 ./...
SHELL := /usr/bin/env bash
GO ?= go

# staticcheck runs through the Go module proxy (no binary download); v0.8.2 = 2026.x, built
# with go 1.26. Bump deliberately.
STATICCHECK_VERSION ?= v0.8.2

# Packages that have benchmarks (evaluated when `make bench` runs).
BENCH_PKGS = $(shell grep -rlE --include='*_test.go' --exclude-dir=.git --exclude-dir=node_modules \
	--exclude-dir=testdata '^func Benchmark' . | xargs -r -n1 dirname | sort -u)

.PHONY: test test-go test-short lint bench demo ci

test:
	bash .ci/run

# The tests alone, without installing anything (missing servers are skipped unless CI=true).
test-go:
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -w needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; \
	else echo "golangci-lint not on PATH: skipped (gofmt, go vet and staticcheck ran)"; fi

bench:
	@pkgs="$(BENCH_PKGS)"; if [ -z "$$pkgs" ]; then echo "no benchmarks found"; exit 0; fi; \
	echo $(GO) test -run='^$$' -bench=. -benchmem $$pkgs; \
	$(GO) test -run='^$$' -bench=. -benchmem $$pkgs

demo:
	$(GO) run ./cmd/vidlib demo

ci:
	bash .ci/run

# The read API under load at the issue's scale (100,000 videos, 10,000 folders, depth 10,
# 2,000 rules, 10,000 users, 500 audiences), served by a child process (its CPU and RSS
# are reported alone): 5,000 requests/s mixed for 20 s after a 5 s warm-up. BENCH_FLAGS
# adds flags: --find-max, or --postgres-url <an empty database> to serve from PostgreSQL
# as deployed (the default keeps the library in memstore, a second copy in the server).
.PHONY: bench-api
bench-api:
	$(GO) run ./cmd/vidlib bench --rate 5000 --duration 20s --warmup 5s $(BENCH_FLAGS)

# The same, served from PostgreSQL as deployed, in a fresh database each run (vidlib_bench
# on BENCH_PG_URL, a server that lets this user create databases: this machine's own, or
# `make dev-up`'s with its URL). These are the numbers the README quotes.
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432
.PHONY: bench-api-pg
bench-api-pg:
	psql "$(BENCH_PG_URL)/postgres" -qc 'DROP DATABASE IF EXISTS vidlib_bench' -c 'CREATE DATABASE vidlib_bench'
	$(GO) run ./cmd/vidlib bench --rate 5000 --duration 20s --warmup 5s --postgres-url "$(BENCH_PG_URL)/vidlib_bench" $(BENCH_FLAGS)

# The audit log: consumer throughput into PostgreSQL, then verify and search over a
# 1,000,000-record log (VIDLIB_AUDIT_BENCH_N to change), on testenv's PostgreSQL.
.PHONY: bench-audit
bench-audit:
	$(GO) test -run '^$$' -bench BenchmarkAuditConsumer -benchtime=100000x ./servers/consumers/
	$(GO) test -run '^$$' -bench BenchmarkAuditLog -benchtime=1x -timeout 30m ./store/pgstore/

# Local PostgreSQL, redis-server and a Kafka-protocol broker (kfake) for the full stack;
# prints the VIDLIB_* variables to export. dev-down stops them (data kept; WIPE=1 deletes it).
.PHONY: dev-up dev-down
dev-up:
	bash scripts/dev-up.sh

dev-down:
	bash scripts/dev-down.sh $(if $(WIPE),--wipe,)
