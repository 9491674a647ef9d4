// Package fuzzer holds the fuzzer functions used by the round-trip tests of
// the source.toolkit.fluxcd.io API group.
package fuzzer

import (
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	commonfuzzer "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common/fuzzer"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
)

// Funcs returns fuzzer functions that only produce objects which survive a
// JSON round trip, and internal objects on which the versioned defaulting is
// a no-op (so decode-time defaults do not show up as differences).
var Funcs = func(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		// Spec durations are text kept as written; fill them with valid text.
		commonfuzzer.Duration,
		// Arbitrary JSON must be valid and compact to survive encoding.
		func(j *common.JSON, c randfill.Continue) {
			switch c.Intn(3) {
			case 0:
				j.Raw = nil
			case 1:
				j.Raw = []byte(`{"replicas":2,"image":{"tag":"v1"}}`)
			default:
				j.Raw = []byte(`["a",1,true,null]`)
			}
		},
		func(s *source.GitRepositorySpec, c randfill.Continue) {
			c.FillNoCustom(s)
			setDuration(&s.Timeout, c)
		},
		func(v *source.GitRepositoryVerification, c randfill.Continue) {
			c.FillNoCustom(v)
			modes := []source.GitVerificationMode{source.ModeGitHEAD, source.ModeGitHEADLegacy, source.ModeGitTag, source.ModeGitTagAndHEAD}
			v.Mode = modes[c.Intn(len(modes))]
		},
		func(s *source.OCIRepositorySpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Provider = pick(c, source.GenericProvider, source.AWSProvider, source.AzureProvider, source.GCPProvider)
			setDuration(&s.Timeout, c)
		},
		func(v *source.OCIRepositoryVerification, c randfill.Continue) {
			c.FillNoCustom(v)
			v.Provider = pick(c, source.CosignVerificationProvider, source.NotationVerificationProvider)
		},
		func(s *source.HelmRepositorySpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Provider = pick(c, source.GenericProvider, source.AWSProvider, source.AzureProvider, source.GCPProvider)
		},
		func(s *source.HelmChartSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			if s.Version == "" {
				s.Version = "*"
			}
			s.ReconcileStrategy = pick(c, source.ReconcileStrategyChartVersion, source.ReconcileStrategyRevision)
		},
		func(v *source.HelmChartVerification, c randfill.Continue) {
			c.FillNoCustom(v)
			v.Provider = pick(c, source.CosignVerificationProvider, source.NotationVerificationProvider)
		},
		func(s *source.BucketSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			s.Provider = pick(c, source.GenericProvider, source.AWSProvider, source.GCPProvider, source.AzureProvider)
			setDuration(&s.Timeout, c)
		},
		// A never-reconciled (zero) status defaults to observedGeneration -1.
		func(s *source.GitRepositoryStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.ObservedGeneration = observedGeneration(c)
		},
		func(s *source.OCIRepositoryStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.ObservedGeneration = observedGeneration(c)
		},
		func(s *source.HelmRepositoryStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.ObservedGeneration = observedGeneration(c)
		},
		func(s *source.HelmChartStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.ObservedGeneration = observedGeneration(c)
		},
		func(s *source.BucketStatus, c randfill.Continue) {
			c.FillNoCustom(s)
			s.ObservedGeneration = observedGeneration(c)
		},
	}
}

func pick(c randfill.Continue, values ...string) string {
	return values[c.Intn(len(values))]
}

// setDuration fills a defaulted duration so it is never nil.
func setDuration(d **common.Duration, c randfill.Continue) {
	*d = new(common.Duration)
	commonfuzzer.Duration(*d, c)
}

// observedGeneration is never 0, so a status is never the zero value that
// defaulting would change.
func observedGeneration(c randfill.Continue) int64 {
	return 1 + c.Int63n(1000)
}
