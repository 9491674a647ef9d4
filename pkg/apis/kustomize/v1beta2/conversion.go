package v1beta2

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/conversion"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/kustomize"
)

// Conversions between v1beta2 and the internal hub that conversion-gen cannot
// write because the two versions differ.
//
// v1beta2 → hub:
//   - spec.patchesStrategicMerge and spec.patchesJson6902 become entries of
//     spec.patches, the form Flux v1 asks for: strategic merge patches
//     without a target (the patch names its object), JSON 6902 patches as a
//     JSON list of operations with their target. The order is strategic
//     merge patches, then spec.patches, then JSON 6902 patches, which is the
//     order kustomize applied the three fields in. One difference remains:
//     kustomize applied patchesJson6902 after the namespace, name prefix and
//     label transformers of the kustomization.yaml, and spec.patches before
//     them, so a JSON 6902 target that only matches the transformed objects
//     no longer matches.
//   - spec.validation is dropped: kustomize-controller ignored it since it
//     moved to server-side apply, and v1 has no such field.
//   Reading the object back as v1beta2 therefore shows the converted patches
//   under spec.patches and no spec.validation.
//
// hub → v1beta2, fields v1beta2 cannot express (absent when an object is read
// as v1beta2; a v1beta2 client that writes the object back loses the spec
// fields, status being only written through /status):
//   - spec.deletionPolicy, spec.namePrefix, spec.nameSuffix,
//     spec.ignoreMissingComponents, spec.healthCheckExprs,
//     spec.buildMetadata, spec.ignore;
//   - spec.dependsOn[].readyExpr, spec.decryption.serviceAccountName,
//     spec.postBuild.substituteStrategy, spec.kubeConfig.configMapRef (a
//     kubeConfig with no secretRef is left out entirely);
//   - status.lastAppliedOriginRevision, status.history.

// Convert_v1beta2_KustomizationSpec_To_kustomize_KustomizationSpec moves the
// deprecated patch fields into spec.patches and drops spec.validation.
func Convert_v1beta2_KustomizationSpec_To_kustomize_KustomizationSpec(in *KustomizationSpec, out *kustomize.KustomizationSpec, s conversion.Scope) error {
	if err := autoConvert_v1beta2_KustomizationSpec_To_kustomize_KustomizationSpec(in, out, s); err != nil {
		return err
	}
	if len(in.PatchesStrategicMerge) == 0 && len(in.PatchesJSON6902) == 0 {
		return nil
	}
	patches := make([]common.Patch, 0, len(in.PatchesStrategicMerge)+len(in.Patches)+len(in.PatchesJSON6902))
	for _, p := range in.PatchesStrategicMerge {
		patches = append(patches, strategicMergePatch(p))
	}
	for _, p := range in.Patches {
		patches = append(patches, *p.DeepCopy())
	}
	for i, p := range in.PatchesJSON6902 {
		patch, err := json6902Patch(p)
		if err != nil {
			return fmt.Errorf("spec.patchesJson6902[%d]: %w", i, err)
		}
		patches = append(patches, patch)
	}
	out.Patches = patches
	return nil
}

// Convert_kustomize_KustomizationSpec_To_v1beta2_KustomizationSpec drops the
// spec fields added after v1beta2, and a kubeConfig without a secretRef.
func Convert_kustomize_KustomizationSpec_To_v1beta2_KustomizationSpec(in *kustomize.KustomizationSpec, out *KustomizationSpec, s conversion.Scope) error {
	if err := autoConvert_kustomize_KustomizationSpec_To_v1beta2_KustomizationSpec(in, out, s); err != nil {
		return err
	}
	if in.KubeConfig != nil && in.KubeConfig.SecretRef == nil {
		out.KubeConfig = nil
	}
	return nil
}

// Convert_v1beta2_KubeConfigReference_To_common_KubeConfigReference copies
// the secret reference.
func Convert_v1beta2_KubeConfigReference_To_common_KubeConfigReference(in *KubeConfigReference, out *common.KubeConfigReference, _ conversion.Scope) error {
	ref := in.SecretRef
	*out = common.KubeConfigReference{SecretRef: &ref}
	return nil
}

// Convert_common_KubeConfigReference_To_v1beta2_KubeConfigReference copies
// the secret reference; configMapRef has no v1beta2 field.
func Convert_common_KubeConfigReference_To_v1beta2_KubeConfigReference(in *common.KubeConfigReference, out *KubeConfigReference, _ conversion.Scope) error {
	*out = KubeConfigReference{}
	if in.SecretRef != nil {
		out.SecretRef = *in.SecretRef
	}
	return nil
}

// Convert_kustomize_DependencyReference_To_v1beta2_DependencyReference drops
// readyExpr.
func Convert_kustomize_DependencyReference_To_v1beta2_DependencyReference(in *kustomize.DependencyReference, out *DependencyReference, s conversion.Scope) error {
	return autoConvert_kustomize_DependencyReference_To_v1beta2_DependencyReference(in, out, s)
}

// Convert_kustomize_Decryption_To_v1beta2_Decryption drops
// serviceAccountName.
func Convert_kustomize_Decryption_To_v1beta2_Decryption(in *kustomize.Decryption, out *Decryption, s conversion.Scope) error {
	return autoConvert_kustomize_Decryption_To_v1beta2_Decryption(in, out, s)
}

// Convert_kustomize_PostBuild_To_v1beta2_PostBuild drops substituteStrategy.
func Convert_kustomize_PostBuild_To_v1beta2_PostBuild(in *kustomize.PostBuild, out *PostBuild, s conversion.Scope) error {
	return autoConvert_kustomize_PostBuild_To_v1beta2_PostBuild(in, out, s)
}

// Convert_kustomize_KustomizationStatus_To_v1beta2_KustomizationStatus drops
// lastAppliedOriginRevision and history.
func Convert_kustomize_KustomizationStatus_To_v1beta2_KustomizationStatus(in *kustomize.KustomizationStatus, out *KustomizationStatus, s conversion.Scope) error {
	return autoConvert_kustomize_KustomizationStatus_To_v1beta2_KustomizationStatus(in, out, s)
}

// strategicMergePatch turns an inline strategic merge patch into a patch
// without a target: kustomize then patches the object the document names.
func strategicMergePatch(p common.JSON) common.Patch {
	var doc bytes.Buffer
	if err := json.Compact(&doc, p.Raw); err != nil {
		// Not valid JSON (it always is when decoded); keep it as it is.
		return common.Patch{Patch: string(p.Raw)}
	}
	return common.Patch{Patch: doc.String()}
}

// json6902Patch encodes the operations as a JSON document, which kustomize
// reads as a JSON 6902 patch, and keeps the target.
func json6902Patch(p JSON6902Patch) (common.Patch, error) {
	ops := p.Patch
	if ops == nil {
		ops = []JSON6902{}
	}
	doc, err := json.Marshal(ops)
	if err != nil {
		return common.Patch{}, err
	}
	target := p.Target
	return common.Patch{Patch: string(doc), Target: &target}, nil
}
