package v1beta1

import (
	"strings"

	"k8s.io/apimachinery/pkg/conversion"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// Conversions between v1beta1 and the internal hub that conversion-gen cannot
// write because the two versions differ.
//
// Dropped going to the hub (v1beta1 → hub), as Flux itself dropped them when
// it stopped serving v1beta1; none of them has an effect today:
//   - spec.gitImplementation: there is one Git client now. Reading any
//     object as v1beta1 shows the CRD default, go-git.
//   - spec.accessFrom: never enforced for GitRepositories; v1 has no such
//     field.
//   - status.url: replaced by status.artifact.url.
//
// Not expressible in v1beta1 (hub → v1beta1), so absent when an object is
// read as v1beta1; a v1beta1 client that writes the object back loses the
// spec fields (status is only written through /status):
//   - spec.provider, spec.serviceAccountName, spec.proxySecretRef,
//     spec.sparseCheckout, spec.ref.name;
//   - status.observedIgnore, status.observedRecurseSubmodules,
//     status.observedInclude, status.observedSparseCheckout,
//     status.sourceVerificationMode;
//   - status.artifact.size and .metadata (also of includedArtifacts).
//
// status.artifact.checksum becomes the digest "sha256:<checksum>" in the hub
// and back; a digest of another algorithm is shown whole as the checksum.
// A checksum written with its "sha256:" prefix comes back without it.
//
// spec.verify.mode is copied as written both ways: v1beta1 only knew "head",
// which the hub keeps as its legacy spelling of "HEAD".

// sha256Prefix starts a SHA-256 artifact digest in the hub (and in Flux v1).
const sha256Prefix = "sha256:"

// Convert_v1beta1_GitRepositorySpec_To_source_GitRepositorySpec drops
// gitImplementation and accessFrom, which the hub has no place for.
func Convert_v1beta1_GitRepositorySpec_To_source_GitRepositorySpec(in *GitRepositorySpec, out *source.GitRepositorySpec, s conversion.Scope) error {
	return autoConvert_v1beta1_GitRepositorySpec_To_source_GitRepositorySpec(in, out, s)
}

// Convert_source_GitRepositorySpec_To_v1beta1_GitRepositorySpec drops the
// fields v1beta1 cannot express (provider, serviceAccountName,
// proxySecretRef, sparseCheckout) and reports gitImplementation as go-git,
// the value Flux's v1beta1 CRD defaulted it to.
func Convert_source_GitRepositorySpec_To_v1beta1_GitRepositorySpec(in *source.GitRepositorySpec, out *GitRepositorySpec, s conversion.Scope) error {
	if err := autoConvert_source_GitRepositorySpec_To_v1beta1_GitRepositorySpec(in, out, s); err != nil {
		return err
	}
	out.GitImplementation = GoGitImplementation
	return nil
}

// Convert_source_GitRepositoryRef_To_v1beta1_GitRepositoryRef drops ref.name
// (a full Git reference such as refs/pull/1/head), added in v1.
func Convert_source_GitRepositoryRef_To_v1beta1_GitRepositoryRef(in *source.GitRepositoryRef, out *GitRepositoryRef, s conversion.Scope) error {
	return autoConvert_source_GitRepositoryRef_To_v1beta1_GitRepositoryRef(in, out, s)
}

// Convert_v1beta1_GitRepositoryStatus_To_source_GitRepositoryStatus drops
// status.url, which the hub replaced by artifact.url.
func Convert_v1beta1_GitRepositoryStatus_To_source_GitRepositoryStatus(in *GitRepositoryStatus, out *source.GitRepositoryStatus, s conversion.Scope) error {
	return autoConvert_v1beta1_GitRepositoryStatus_To_source_GitRepositoryStatus(in, out, s)
}

// Convert_source_GitRepositoryStatus_To_v1beta1_GitRepositoryStatus drops the
// observed* fields and sourceVerificationMode, which v1beta1 lacks.
func Convert_source_GitRepositoryStatus_To_v1beta1_GitRepositoryStatus(in *source.GitRepositoryStatus, out *GitRepositoryStatus, s conversion.Scope) error {
	return autoConvert_source_GitRepositoryStatus_To_v1beta1_GitRepositoryStatus(in, out, s)
}

// Convert_v1beta1_Artifact_To_common_Artifact turns the hex SHA-256 checksum
// into a digest, "sha256:<checksum>". A checksum that already names its
// algorithm ("<algo>:<hex>") is taken as a digest as it is.
func Convert_v1beta1_Artifact_To_common_Artifact(in *Artifact, out *common.Artifact, _ conversion.Scope) error {
	*out = common.Artifact{
		Path:           in.Path,
		URL:            in.URL,
		Revision:       in.Revision,
		Digest:         checksumToDigest(in.Checksum),
		LastUpdateTime: in.LastUpdateTime,
	}
	return nil
}

// Convert_common_Artifact_To_v1beta1_Artifact turns a sha256 digest back into
// a bare checksum; a digest of another algorithm is kept whole. Size and
// metadata have no v1beta1 field and are dropped.
func Convert_common_Artifact_To_v1beta1_Artifact(in *common.Artifact, out *Artifact, _ conversion.Scope) error {
	*out = Artifact{
		Path:           in.Path,
		URL:            in.URL,
		Revision:       in.Revision,
		Checksum:       digestToChecksum(in.Digest),
		LastUpdateTime: in.LastUpdateTime,
	}
	return nil
}

func checksumToDigest(checksum string) string {
	if checksum == "" || strings.Contains(checksum, ":") {
		return checksum
	}
	return sha256Prefix + checksum
}

func digestToChecksum(digest string) string {
	return strings.TrimPrefix(digest, sha256Prefix)
}
