package helmrelease

import (
	"bytes"
	"fmt"

	"helm.sh/helm/v4/pkg/postrenderer"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/kustomize/build"
)

// Kustomize is one of spec.postRenderers[].kustomize: patches and image
// overrides applied to what the chart rendered.
type Kustomize struct {
	Patches []common.Patch
	Images  []common.Image
	// CommonLabels and CommonAnnotations are set on every object's
	// metadata (spec.commonMetadata), never on selectors or templates.
	CommonLabels, CommonAnnotations map[string]string
}

// PostRenderer runs Flux's kustomize post-renderers in order, with the same
// kustomize build the Kustomization worker uses (in memory, builtin
// transformers only). Nil when there is nothing to run.
func PostRenderer(steps []Kustomize) postrenderer.PostRenderer {
	var real []Kustomize
	for _, s := range steps {
		if len(s.Patches) > 0 || len(s.Images) > 0 || len(s.CommonLabels) > 0 || len(s.CommonAnnotations) > 0 {
			real = append(real, s)
		}
	}
	if len(real) == 0 {
		return nil
	}
	return kustomizeRenderer(real)
}

type kustomizeRenderer []Kustomize

// Run implements postrenderer.PostRenderer.
func (k kustomizeRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	manifests := in.Bytes()
	for i, step := range k {
		out, err := step.run(manifests)
		if err != nil {
			return nil, fmt.Errorf("post-renderer %d (kustomize): %w", i, err)
		}
		manifests = out
	}
	return bytes.NewBuffer(manifests), nil
}

func (s Kustomize) run(manifests []byte) ([]byte, error) {
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile("/helm/rendered.yaml", manifests); err != nil {
		return nil, err
	}
	objs, err := build.Build(fs, build.Options{Path: "helm", Patches: s.Patches, Images: s.Images,
		CommonLabels: s.CommonLabels, CommonAnnotations: s.CommonAnnotations})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(b)
	}
	return out.Bytes(), nil
}
