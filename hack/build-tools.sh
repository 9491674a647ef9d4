#!/usr/bin/env bash
# Builds the real components the local control plane and the tests run:
# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (Go
# module k8s.io/kubernetes) and an embed-based etcd, from hack/tools/go.mod;
# the simulated node kwok (sigs.k8s.io/kwok, its own go.mod) and its "fast"
# stage files (pods become Ready at once, Job pods complete, deletes finish)
# with ours (hack/kwok: Helm test pods complete, a pod can be made to fail).
# The binaries are cached in _output/bin with a stamp of this script and
# hack/tools; a change rebuilds them. About 10 minutes and 2.3 GB of RAM from
# a cold Go cache.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="${ROOT}/_output/bin"
STAMP="${BIN}/.tools-stamp"
mkdir -p "${BIN}"

KWOK_VERSION=v0.8.0
TOOLS=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

# The contents only (not the paths), so another checkout of the same tree reuses the binaries.
want=$(cat "${BASH_SOURCE[0]}" "${ROOT}/hack/kwok/pod-exit.yaml" "${ROOT}/hack/tools/go.sum" "${ROOT}/hack/tools/go.mod" "${ROOT}/hack/tools/etcd/main.go" | sha256sum | cut -d' ' -f1)
fresh=true
for t in "${TOOLS[@]}"; do [[ -x "${BIN}/${t}" ]] || fresh=false; done
[[ -f "${BIN}/kwok-stages.yaml" ]] || fresh=false
if [[ "${fresh}" == true && -f "${STAMP}" && "$(cat "${STAMP}")" == "${want}" ]]; then
    exit 0
fi

cd "${ROOT}/hack/tools"
echo "building ${TOOLS[*]} into ${BIN} (first time: ~10 minutes)" >&2
# One compile at a time: the machine has 2 cores.
for t in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    go build -o "${BIN}/${t}" "k8s.io/kubernetes/cmd/${t}"
done
go build -o "${BIN}/etcd" ./etcd
# kwok builds from its own go.mod (its k8s.io modules differ from ours).
GOBIN="${BIN}" go install "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
kwokdir=$(go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
{ "${BIN}/kubectl" kustomize "${kwokdir}/kustomize/stage/fast"; echo "---"; cat "${ROOT}/hack/kwok/pod-exit.yaml"; } > "${BIN}/kwok-stages.yaml.tmp"
mv "${BIN}/kwok-stages.yaml.tmp" "${BIN}/kwok-stages.yaml"
echo "${want}" > "${STAMP}"
