#!/usr/bin/env bash
# Builds gitops-apiserver's container image without a container engine
# (make image), or pushes it (make push IMAGE=registry/repository:tag).
#
#   hack/image.sh build   static binaries (CGO_ENABLED=0) per architecture in
#                         _output/image/bin, then the image index as an OCI
#                         layout in _output/image/oci and `docker load`
#                         tarballs in _output/image
#   hack/image.sh push    pushes _output/image/oci to $IMAGE with the Docker
#                         config's credentials; prints the digest reference
#
# Environment: ARCHS (default: GOARCH, else this machine's; e.g. "amd64
# arm64"), IMAGE_OUT (layout directory, default _output/image/oci), VERSION
# (default: git describe), SOURCE_DATE_EPOCH (default: the commit's time, so
# the same tree gives the same digest), CA_CERTIFICATES (default: this
# machine's bundle), IMAGE (push).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
export GOTOOLCHAIN=local

ARCHS=${ARCHS:-${GOARCH:-$(go env GOARCH)}}
# GOOS/GOARCH (e.g. from `make image GOARCH=arm64`) are for the server
# binaries only; gitops-image itself runs here.
unset GOOS GOARCH
IMAGE_OUT=${IMAGE_OUT:-_output/image/oci}
BIN_DIR=_output/image/bin

build() {
    local bins=() arch
    for arch in ${ARCHS}; do
        local out="${BIN_DIR}/linux_${arch}/gitops-apiserver"
        # go build relinks only when an input changed (the build cache is
        # keyed by content), so a second `make image` is quick.
        CGO_ENABLED=0 GOOS=linux GOARCH="${arch}" go build -trimpath -ldflags="-s -w" -o "${out}" ./cmd/gitops-apiserver
        bins+=(--binary "linux/${arch}=${out}")
    done
    local revision version created
    revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
    version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
    created=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
    go run ./cmd/gitops-image build "${bins[@]}" \
        --out "${IMAGE_OUT}" \
        --docker-archive-dir "$(dirname "${IMAGE_OUT}")" \
        --ca-certificates "${CA_CERTIFICATES:-/etc/ssl/certs/ca-certificates.crt}" \
        --revision "${revision}" --version "${version}" --created "${created}"
}

push() {
    if [[ -z "${IMAGE:-}" ]]; then
        echo "hack/image.sh push: set IMAGE, e.g. make push IMAGE=registry.example.com/gitops-apiserver:v0.1.0" >&2
        exit 2
    fi
    go run ./cmd/gitops-image push --layout "${IMAGE_OUT}" "${IMAGE}"
}

case "${1:-build}" in
build) build ;;
push) push ;;
*)
    echo "usage: hack/image.sh [build|push]" >&2
    exit 2
    ;;
esac
