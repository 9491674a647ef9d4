package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/cosign"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/helm"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// helmChartLayerMediaType is the media type of the chart layer of a Helm
// OCI artifact.
const helmChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

// chartVerification refuses a spec.verify this server cannot honour
// before anything is read: only charts pulled from a registry carry
// cosign signatures (as in Flux, dependencies and charts from other
// sources are not verified; we refuse rather than skip the check), and
// unsupportedVerification. Without spec.verify, SourceVerified goes away.
func chartVerification(obj *sourcev1.HelmChart, repo *sourcev1.HelmRepository) error {
	v := obj.Spec.Verify
	if v == nil {
		apimeta.RemoveStatusCondition(&obj.Status.Conditions, source.SourceVerifiedCondition)
		return nil
	}
	var err error
	switch {
	case obj.Spec.SourceRef.Kind != source.HelmRepositoryKind:
		err = loop.Stallf(source.VerificationError, "spec.verify: only charts from a HelmRepository of type oci can be verified, "+
			"not charts built from a %s; remove spec.verify", obj.Spec.SourceRef.Kind)
	case repo != nil && repo.Spec.Type != source.HelmRepositoryTypeOCI:
		err = loop.Stallf(source.VerificationError, "spec.verify: only charts from a HelmRepository of type oci can be verified; "+
			"HelmRepository '%s/%s' is an HTTP repository; remove spec.verify", repo.Namespace, repo.Name)
	default:
		err = unsupportedVerification(chartVerifySpec(v))
	}
	if err != nil {
		return markNotVerified(&obj.Status.Conditions, obj.Generation, err)
	}
	return nil
}

// chartVerifiedMessage is Flux's SourceVerified message for a HelmChart.
// It is set only once the verified chart is stored, so with the artifact's
// revision it says the stored chart was verified by this generation.
func chartVerifiedMessage(version string) string {
	return "verified signature of version " + version
}

// chartVerified says whether spec.verify lets the stored chart of version
// be kept.
func chartVerified(obj *sourcev1.HelmChart, version string) bool {
	return obj.Spec.Verify == nil || verifiedAs(obj.Status.Conditions, obj.Generation, chartVerifiedMessage(version))
}

// pullVerified pulls chart version from the registry of repo by the
// digest its tag points to, once the cosign signatures of that digest
// verify with keys. It goes through pkg/oci rather than the Helm SDK,
// which pulls by tag: the tag could move between the check and the pull.
func (r *HelmChartReconciler) pullVerified(ctx context.Context, obj *sourcev1.HelmChart, repo *sourcev1.HelmRepository,
	host helm.RegistryHost, version string, keys []cosign.PublicKey) ([]byte, error) {
	opts := chartOCIOptions(repo, host, obj.Spec.Chart, version, r.MaxFetchSize)
	resolved, err := oci.Resolve(ctx, opts)
	if err != nil {
		return nil, r.fetchFailed(obj, chartOCIError(err, "failed to resolve chart '%s' version %s", obj.Spec.Chart, version))
	}
	if err := verifyDigest(ctx, opts, resolved.Digest, keyVerifier(keys)); err != nil {
		return nil, markNotVerified(&obj.Status.Conditions, obj.Generation, err)
	}
	var buf bytes.Buffer
	_, err = oci.Pull(ctx, opts, resolved, oci.LayerSelector{MediaType: helmChartLayerMediaType, Operation: oci.OperationCopy},
		func(layer io.Reader) error {
			_, err := io.Copy(&buf, layer)
			return err
		})
	if err == nil {
		err = helm.CheckChart(buf.Bytes(), obj.Spec.Chart, version)
	}
	if err != nil {
		return nil, r.fetchFailed(obj, chartOCIError(err, "failed to pull chart '%s' version %s", obj.Spec.Chart, version))
	}
	return buf.Bytes(), nil
}

// chartOCIOptions reaches oci://<repo url>/<chart>:<version> as the Helm
// SDK does: same credentials, TLS and plain HTTP setting, and a '+' in the
// version is '_' in the tag.
func chartOCIOptions(repo *sourcev1.HelmRepository, host helm.RegistryHost, chart, version string, maxSize int64) oci.Options {
	opts := oci.Options{
		URL:       strings.TrimSuffix(repo.Spec.URL, "/") + "/" + chart,
		Ref:       oci.Ref{Tag: strings.ReplaceAll(version, "+", "_")},
		Insecure:  host.Insecure,
		Timeout:   helmTimeout(&repo.Spec),
		MaxSize:   maxSize,
		UserAgent: helmUserAgent,
	}
	if host.Username != "" || host.Password != "" || host.IdentityToken != "" || host.RegistryToken != "" {
		opts.Credentials = &oci.Credentials{Username: host.Username, Password: host.Password,
			IdentityToken: host.IdentityToken, RegistryToken: host.RegistryToken}
	}
	if host.TLS != nil {
		opts.TLS = &oci.TLS{CA: host.TLS.CA, Cert: host.TLS.Cert, Key: host.TLS.Key}
	}
	return opts
}

// chartOCIError gives an error of pkg/oci Flux's HelmChart reason.
func chartOCIError(err error, format string, args ...interface{}) error {
	if errors.Is(err, oci.ErrAuthentication) {
		return loop.Failf(source.AuthenticationFailedReason, format+": %w", append(args, err)...)
	}
	return loop.Failf(chartPullErrorReason, format+": %w", append(args, err)...)
}
