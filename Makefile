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

## test-unit: fast tests, no processes started (artifacts/monitoring: the
## dashboard and rules against what the server exports).
test-unit:
	$(GO) test $(GOTEST_FLAGS) ./pkg/... ./cmd/... ./artifacts/...

## test-integration: real etcd, kube-apiserver and gitops-apiserver on loopback.
## -count=1: the test cache cannot see the binaries these tests run.
test-integration: tools build
	GITOPS_BIN_DIR=$(BIN) $(GO) test $(GOTEST_FLAGS) -count=1 -timeout 20m ./test/...

codegen:
	hack/update-codegen.sh

## bench: the Kustomization benchmark (docs/benchmarks.md), N=100 x 3 runs by default:
## phase 1, phase 2, one idle interval, and the kubectl references and the feed floor
## each on a fresh control plane; e.g. make bench BENCH_FLAGS="-n 100,500,1000 -gitops-args=--concurrent=8"
## or BENCH_FLAGS="-n 5000,10000 -timeout=30m"; the HelmRelease benchmark with
## BENCH_FLAGS="-workload=helmrelease ...".
bench: tools build
	hack/bench.sh $(BENCH_FLAGS)

clean:
	rm -rf _output

.PHONY: image push run-deployed test-deploy

## image: the container image without a container engine (hack/image.sh):
## static binaries, an OCI layout in _output/image/oci (an index, one image
## per architecture) and `docker load` tarballs in _output/image;
## ARCHS="amd64 arm64" (or GOARCH=arm64) for other architectures.
image:
	hack/image.sh build

## push: push the image, e.g. make push IMAGE=registry.example.com/gitops-apiserver:v0.1.0
## (credentials from the Docker config); prints the digest reference to deploy.
push: image
	hack/image.sh push

## run-deployed: a local control plane where hack/deploy.sh installs
## gitops-apiserver as a user would (its pod "runs" on the simulated node).
run-deployed: tools
	hack/local-up.sh --deployed

## test-deploy: the image and install tests alone (test/deploy).
test-deploy: tools build
	GITOPS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m -v ./test/deploy/...
