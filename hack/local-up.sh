#!/usr/bin/env bash
# Brings up a local control plane on loopback — etcd, kube-apiserver with the
# aggregation layer, kube-controller-manager, kube-scheduler, a simulated
# node (kwok) and gitops-apiserver registered through APIServices — writes
# the admin kubeconfig to _output/local/kubeconfig once every APIService is
# Available, and stays in the foreground until Ctrl-C.
# Extra arguments go to gitops-apiserver, e.g. hack/local-up.sh --concurrent=8.
#
# hack/local-up.sh --deployed (make run-deployed) instead installs
# gitops-apiserver with hack/deploy.sh, as a user would: its Deployment's pod
# "runs" on the simulated node (no container runs, so the API is not
# served). IMAGE sets the image the Deployment names (never pulled).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
export GOTOOLCHAIN=local
hack/build-tools.sh
go build -o _output/bin/localup ./hack/localup
if [[ "${1:-}" == "--deployed" ]]; then
    exec _output/bin/localup --repo-root "${ROOT}" --dir "${ROOT}/_output/local" --bin-dir "${ROOT}/_output/bin" \
        --deployed --image "${IMAGE:-}"
fi
go build -o _output/bin/gitops-apiserver ./cmd/gitops-apiserver
exec _output/bin/localup --repo-root "${ROOT}" --dir "${ROOT}/_output/local" --bin-dir "${ROOT}/_output/bin" -- "$@"
