// Package fuzzer holds the fuzzer functions used by the round-trip tests of
// the helm.toolkit.fluxcd.io API group.
package fuzzer

import (
	"fmt"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/fuzzer"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm"
	v2 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/helm/v2"
)

// Funcs returns fuzzer functions that only produce objects which survive a
// JSON round trip and on which defaulting is a no-op.
var Funcs = func(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Status durations travel as strings; keep them whole seconds in a
		// sane range.
		func(d *metav1.Duration, c randfill.Continue) {
			d.Duration = time.Duration(c.Int63n(7*24*3600)) * time.Second
		},
		// Spec durations are text kept as written; fill them with valid text.
		commonfuzzer.Duration,
		// Values must be valid, compact JSON: the encoder compacts whatever
		// MarshalJSON returns, and an empty value would decode as nil.
		func(j *common.JSON, c randfill.Continue) {
			j.Raw = []byte(fmt.Sprintf(`{"replicas":%d,"image":{"tag":"v%d"},"enabled":%t}`,
				c.Intn(100), c.Intn(1000), c.Bool()))
		},
		// A missing status defaults to observedGeneration -1.
		func(s *helm.HelmReleaseStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			if apiequality.Semantic.DeepEqual(*s, helm.HelmReleaseStatus{}) {
				s.ObservedGeneration = -1
			}
		},
		func(s *helm.HelmChartTemplateSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			if s.Version == "" {
				s.Version = "*"
			}
			if s.ReconcileStrategy == "" {
				s.ReconcileStrategy = helm.ReconcileStrategyChartVersion
			}
		},
		func(v *helm.HelmChartTemplateVerification, c randfill.Continue) {
			c.FillNoCustom(v)
			if v.Provider == "" {
				v.Provider = helm.VerifyProviderCosign
			}
		},
		// JSON cannot carry a pointer to a nil list or map: it reads back as
		// a nil pointer. Point at an empty one instead.
		func(t *helm.Test, c randfill.Continue) {
			c.FillNoCustom(t)
			if t.Filters != nil && *t.Filters == nil {
				t.Filters = &[]helm.Filter{}
			}
		},
		func(t *v2.Test, c randfill.Continue) {
			c.FillNoCustom(t)
			if t.Filters != nil && *t.Filters == nil {
				t.Filters = &[]v2.Filter{}
			}
		},
		func(s *helm.Snapshot, c randfill.Continue) {
			c.FillNoCustom(s)
			if s.TestHooks != nil && *s.TestHooks == nil {
				s.TestHooks = &map[string]*helm.TestHookStatus{}
			}
		},
		func(s *v2.Snapshot, c randfill.Continue) {
			c.FillNoCustom(s)
			if s.TestHooks != nil && *s.TestHooks == nil {
				s.TestHooks = &map[string]*v2.TestHookStatus{}
			}
		},
		func(u *helm.Uninstall, c randfill.Continue) {
			c.FillNoCustom(u)
			if u.DeletionPropagation == nil {
				p := helm.DeletionPropagationBackground
				u.DeletionPropagation = &p
			}
		},
	}
}
