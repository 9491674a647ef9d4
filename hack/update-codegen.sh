#!/usr/bin/env bash
# Regenerates everything under pkg/generated and every zz_generated.*.go file
# from the API types in pkg/apis, with k8s.io/code-generator at the version
# pinned in go.mod.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
MODULE=github.com/gitops-apiserver/gitops-apiserver
CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

BOILERPLATE="${ROOT}/hack/boilerplate.go.txt"

kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${ROOT}/pkg/apis"

# API rule violations (e.g. list types left atomic) are recorded, not fatal:
# the field names are Flux's and cannot change.
kube::codegen::gen_openapi \
    --output-dir "${ROOT}/pkg/generated/openapi" \
    --output-pkg "${MODULE}/pkg/generated/openapi" \
    --report-filename "${ROOT}/hack/api-rule-violations.list" \
    --update-report \
    --output-model-name-file zz_generated.model_name.go \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

kube::codegen::gen_client \
    --with-watch \
    --with-applyconfig \
    --output-dir "${ROOT}/pkg/generated" \
    --output-pkg "${MODULE}/pkg/generated" \
    --boilerplate "${BOILERPLATE}" \
    "${ROOT}/pkg/apis"

# gen_client only feeds versioned packages to applyconfiguration-gen, but our
# status and spec types inline shared types from pkg/apis/common. Generate
# again with common among the inputs so those get apply configurations too.
mapfile -t APPLY_INPUTS < <(
    cd "${ROOT}" && go list ./pkg/apis/... | grep -E '/v[0-9]+((alpha|beta)[0-9]+)?$'
)
"$(go env GOPATH)/bin/applyconfiguration-gen" \
    --go-header-file "${BOILERPLATE}" \
    --output-dir "${ROOT}/pkg/generated/applyconfiguration" \
    --output-pkg "${MODULE}/pkg/generated/applyconfiguration" \
    "${MODULE}/pkg/apis/common" \
    "${APPLY_INPUTS[@]}"
