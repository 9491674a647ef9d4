# gitops-apiserver — see README.md.
SHELL := /usr/bin/env bash
GO ?= go
BIN := $(CURDIR)/_output/bin
# Two cores: keep test binaries and packages from fighting over them.
GOTEST_FLAGS ?= -p 2

export GOTOOLCHAIN := local

.PHONY: all build tools run test test-unit test-integration verify codegen bench clean

all: build

## build: the gitops-apiserver binary in _output/bin.
build:
	$(GO) build -o $(BIN)/gitops-apiserver ./cmd/gitops-apiserver

## tools: kube-apiserver, kubectl and etcd for the local control plane (cached).
tools:
	hack/build-tools.sh

## run: a local control plane with gitops-apiserver registered; Ctrl-C stops it.
run: tools build
	hack/local-up.sh

## test: everything CI runs.
test: verify test-unit test-integration

## verify: formatting, vet and generated code.
verify:
	@out=$$(gofmt -l cmd pkg test hack); if [[ -n "$$out" ]]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	hack/verify-codegen.sh

## test-unit: fast tests, no processes started.
test-unit:
	$(GO) test $(GOTEST_FLAGS) ./pkg/... ./cmd/...

## test-integration: real etcd, kube-apiserver and gitops-apiserver on loopback.
## -count=1: the test cache cannot see the binaries these tests run.
test-integration: tools build
	GITOPS_BIN_DIR=$(BIN) $(GO) test $(GOTEST_FLAGS) -count=1 -timeout 20m ./test/...

codegen:
	hack/update-codegen.sh

## bench: the Kustomization benchmark (docs/benchmarks.md), N=100 x 3 runs by default;
## e.g. make bench BENCH_FLAGS="-n 100,500,1000 -gitops-args=--concurrent=8".
bench: tools build
	hack/bench.sh $(BENCH_FLAGS)

clean:
	rm -rf _output
