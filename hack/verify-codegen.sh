#!/usr/bin/env bash
# Fails when generated code is not what hack/update-codegen.sh produces from
# the current API types: it regenerates into a scratch copy and compares.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=$(mktemp -d)
trap 'rm -rf "${SCRATCH}"' EXIT

# Copy the tracked and untracked-but-not-ignored files, not _output/.
cd "${ROOT}"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "${SCRATCH}/" 2>/dev/null || true
git ls-files -z --deleted | xargs -0 -I{} rm -f "${SCRATCH}/{}"
cd "${SCRATCH}"
bash hack/update-codegen.sh >/dev/null
if ! diff -ruN --exclude='.git' "${ROOT}/pkg" "${SCRATCH}/pkg" >"${SCRATCH}.diff"; then
    echo "Generated code is out of date; run hack/update-codegen.sh. Differences:" >&2
    head -n 100 "${SCRATCH}.diff" >&2
    rm -f "${SCRATCH}.diff"
    exit 1
fi
if ! diff -u "${ROOT}/hack/api-rule-violations.list" "${SCRATCH}/hack/api-rule-violations.list"; then
    echo "hack/api-rule-violations.list is out of date; run hack/update-codegen.sh." >&2
    exit 1
fi
rm -f "${SCRATCH}.diff"
echo "generated code is up to date"
