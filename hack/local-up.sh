#!/usr/bin/env bash
# Brings up a local control plane on loopback — etcd, kube-apiserver with the
# aggregation layer, kube-controller-manager, kube-scheduler, a simulated
# node (kwok) and gitops-apiserver registered through APIServices — writes
# the admin kubeconfig to _output/local/kubeconfig once every APIService is
# Available, and stays in the foreground until Ctrl-C.
# Extra arguments go to gitops-apiserver, e.g. hack/local-up.sh --concurrent=8.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
export GOTOOLCHAIN=local
hack/build-tools.sh
go build -o _output/bin/gitops-apiserver ./cmd/gitops-apiserver
go build -o _output/bin/localup ./hack/localup
exec _output/bin/localup --repo-root "${ROOT}" --dir "${ROOT}/_output/local" --bin-dir "${ROOT}/_output/bin" -- "$@"
