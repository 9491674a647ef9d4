#!/usr/bin/env bash
# Runs the Kustomization benchmark (docs/benchmarks.md; judged as
# ../shared/BENCHMARK.md says), or with -workload=helmrelease the HelmRelease
# benchmark: builds kube-apiserver, kubectl and etcd (cached),
# gitops-apiserver and the harness test/bench, then measures on a fresh
# local control plane per N and run (phase 1, phase 2, one idle interval),
# and the kubectl references and the feed floor (--disable-workers) each
# on a fresh control plane of its own. Arguments go to the harness, e.g.
#   hack/bench.sh -n 100,500,1000 -runs 3 -gitops-args=--concurrent=8
#   hack/bench.sh -n 5000,10000 -runs 3 -timeout=30m
#   hack/bench.sh -workload=helmrelease -n 100,500,1000 -runs 3 -gitops-args=--concurrent=8
# -idle=false, -reference=false, -feed-floor=false and -phase2=false skip
# those steps; -idle-interval sets the idle phase's interval (default 1m,
# 60 ms per app above N=1000).
# The report goes to _output/bench/results.md (and .json) unless -out/-json
# say otherwise; the directories of failed runs (logs) stay in
# _output/bench/runs.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
export GOTOOLCHAIN=local
hack/build-tools.sh
go build -o _output/bin/gitops-apiserver ./cmd/gitops-apiserver
go build -o _output/bin/bench ./test/bench
exec _output/bin/bench -repo-root "${ROOT}" -bin-dir "${ROOT}/_output/bin" \
    -work-dir "${ROOT}/_output/bench/runs" \
    -out "${ROOT}/_output/bench/results.md" -json "${ROOT}/_output/bench/results.json" "$@"
