package v1beta2

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// Convert_source_BucketSpec_To_v1beta2_BucketSpec drops serviceAccountName,
// which v1beta2 cannot express (Flux added it in v1 only).
func Convert_source_BucketSpec_To_v1beta2_BucketSpec(in *source.BucketSpec, out *BucketSpec, s conversion.Scope) error {
	return autoConvert_source_BucketSpec_To_v1beta2_BucketSpec(in, out, s)
}
