package v1beta2

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
)

// Convert_image_SigningKey_To_v1beta2_SigningKey drops the key type, which
// v1beta2 cannot express; a v1beta2 client only ever sets gpg keys, the
// default, so objects it wrote convert back unchanged.
func Convert_image_SigningKey_To_v1beta2_SigningKey(in *image.SigningKey, out *SigningKey, s conversion.Scope) error {
	return autoConvert_image_SigningKey_To_v1beta2_SigningKey(in, out, s)
}
