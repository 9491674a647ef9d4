#!/usr/bin/env bash
# Deploys gitops-apiserver to the cluster of the current kubeconfig:
# artifacts/deploy (namespace, RBAC, Service, PVC, Deployment), a fresh
# serving certificate as the gitops-apiserver-tls Secret, and the
# APIServices with that certificate's CA as caBundle. Generated files go to
# _output/deploy (keep them private: they hold the serving key).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
export GOTOOLCHAIN=local
go run ./hack/deploy --out-dir _output/deploy "$@"
kubectl apply --server-side -k artifacts/deploy
kubectl apply --server-side -f _output/deploy/tls-secret.yaml
kubectl apply --server-side -f _output/deploy/apiservices.yaml
echo "deployed; wait for: kubectl get apiservices -l app.kubernetes.io/name=gitops-apiserver"
