#!/usr/bin/env bash
# Deploys gitops-apiserver to the cluster of the current kubeconfig:
# artifacts/deploy (namespace, RBAC, Service, PVC, Deployment, PDB,
# NetworkPolicy), a fresh serving certificate as the gitops-apiserver-tls
# Secret, and the APIServices with that certificate's CA as caBundle, in one
# `kubectl apply -k` of a generated kustomization. Running it again rotates
# the certificate.
#
# Environment: IMAGE, the image to run (e.g. the digest reference `make push`
# printed; default ghcr.io/gitops-apiserver/gitops-apiserver:latest);
# OUT_DIR, where the generated files go (default _output/deploy; keep it
# private: it holds the serving key); KUBECTL (default kubectl).
# Arguments go to hack/deploy (e.g. --namespace, --service, --port).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
export GOTOOLCHAIN=local
OUT_DIR=${OUT_DIR:-_output/deploy}
go run ./hack/deploy --out-dir "${OUT_DIR}" --base artifacts/deploy --image "${IMAGE:-}" "$@"
"${KUBECTL:-kubectl}" apply --server-side -k "${OUT_DIR}"
echo "deployed; wait for: kubectl get apiservices -l app.kubernetes.io/name=gitops-apiserver"
