package v1

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// The hub also holds fields that only v1beta2 serves; v1 drops them, as
// Flux's storage-version schema prunes them.

// Convert_source_OCIRepositoryStatus_To_v1_OCIRepositoryStatus drops
// contentConfigChecksum (v1beta2 only).
func Convert_source_OCIRepositoryStatus_To_v1_OCIRepositoryStatus(in *source.OCIRepositoryStatus, out *OCIRepositoryStatus, s conversion.Scope) error {
	return autoConvert_source_OCIRepositoryStatus_To_v1_OCIRepositoryStatus(in, out, s)
}

// Convert_source_BucketSpec_To_v1_BucketSpec drops accessFrom (v1beta2
// only).
func Convert_source_BucketSpec_To_v1_BucketSpec(in *source.BucketSpec, out *BucketSpec, s conversion.Scope) error {
	return autoConvert_source_BucketSpec_To_v1_BucketSpec(in, out, s)
}
