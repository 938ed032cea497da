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
