package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imageapi "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	img "github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// userAgent identifies the image workers to registries.
const userAgent = "gitops-apiserver/image-reflector-controller"

// latestTagsCount is how many tags status.lastScanResult.latestTags shows.
const latestTagsCount = 10

// ImageRepositoryReconciler scans an ImageRepository's registry for tags and
// keeps them in the tag store.
type ImageRepositoryReconciler struct {
	*Env
}

var _ loop.Reconciler[*imagev1.ImageRepository] = &ImageRepositoryReconciler{}

// Reconcile implements loop.Reconciler.
func (r *ImageRepositoryReconciler) Reconcile(ctx context.Context, obj *imagev1.ImageRepository) loop.Result {
	if obj.Spec.Suspend {
		return loop.Result{}
	}
	interval := intervalOf(&obj.Spec.Interval, 10*time.Minute)
	asked := requested(obj, &obj.Status.ReconcileRequestStatus)
	loop.RecordReconcileRequest(obj, &obj.Status.ReconcileRequestStatus)
	msg, next, err := r.reconcile(ctx, obj, interval, asked)
	r.finish(obj, outcome{
		conditions: &obj.Status.Conditions, observedGeneration: &obj.Status.ObservedGeneration,
		failureReason: imageapi.ReadOperationFailedReason,
	}, msg, err)
	if err != nil {
		next = interval
	}
	return loop.Result{Err: err, RequeueAfter: next}
}

// reconcile scans when a scan is due and returns the Ready message and when
// the next scan is due.
func (r *ImageRepositoryReconciler) reconcile(ctx context.Context, obj *imagev1.ImageRepository, interval time.Duration, asked bool) (string, time.Duration, error) {
	canonical, err := img.CanonicalName(obj.Spec.Image)
	if err != nil {
		return "", 0, loop.Stallf(imageapi.ImageURLInvalidReason, "%v", err)
	}
	obj.Status.CanonicalImageName = canonical
	key := tagKey(obj.Namespace, obj.Name)
	if last := obj.Status.LastScanResult; last != nil && !asked &&
		obj.Status.ObservedGeneration == obj.Generation &&
		slices.Equal(obj.Status.ObservedExclusionList, obj.Spec.ExclusionList) && r.Tags.Has(key) {
		// A restart or a status write is not a reason to scan again early.
		if wait := last.ScanTime.Add(interval).Sub(r.now()); wait > 0 {
			return scannedMessage(last.TagCount), wait, nil
		}
	}

	opts, err := r.scanOptions(ctx, obj)
	if err != nil {
		return "", 0, err
	}
	tags, err := img.ListTags(ctx, opts)
	if err != nil {
		return "", 0, scanError(err)
	}
	if err := r.Tags.Put(key, tags); err != nil {
		return "", 0, loop.Failf(imageapi.ReadOperationFailedReason, "failed to store the tags: %w", err)
	}
	previous := obj.Status.LastScanResult
	result := &imagev1.ScanResult{
		Revision:   tagsRevision(tags),
		TagCount:   len(tags),
		ScanTime:   metav1.NewTime(r.now()),
		LatestTags: latestTags(tags),
	}
	obj.Status.LastScanResult = result
	obj.Status.ObservedExclusionList = slices.Clone(obj.Spec.ExclusionList)
	msg := scannedMessage(len(tags))
	if previous == nil || previous.Revision != result.Revision {
		r.Events.Event(obj, corev1.EventTypeNormal, common.SucceededReason, msg)
	}
	return msg, interval, nil
}

func scannedMessage(n int) string {
	return "successful scan: found " + strconv.Itoa(n) + " tags"
}

// scanOptions turns an ImageRepository's spec and Secrets into the engine's
// options. ImagePolicies resolve digests with their repository's options.
func (e *Env) scanOptions(ctx context.Context, obj *imagev1.ImageRepository) (img.ScanOptions, error) {
	spec := &obj.Spec
	opts := img.ScanOptions{
		Image:         spec.Image,
		Insecure:      spec.Insecure,
		Timeout:       intervalOf(spec.Timeout, img.DefaultTimeout),
		ExclusionList: spec.ExclusionList,
		UserAgent:     userAgent,
		Guard:         e.Guard,
	}
	if opts.ExclusionList == nil {
		opts.ExclusionList = []string{}
	}
	switch spec.Provider {
	case "", "generic":
	default:
		// Cloud identities need the cloud's metadata endpoints; there are
		// none to reach from here, and guessing would be worse.
		return opts, loop.Stallf(imageapi.AuthenticationFailedReason,
			"spec.provider '%s' is not supported by this server; use 'generic' with spec.secretRef (a docker-registry Secret)", spec.Provider)
	}
	var configs [][]byte
	if spec.SecretRef != nil {
		s, err := e.getSecret(ctx, obj.Namespace, spec.SecretRef.Name, "spec.secretRef", imageapi.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		cfg, ok := s.Data[oci.DockerConfigJSONKey]
		if !ok {
			return opts, loop.Failf(imageapi.AuthenticationFailedReason,
				"secret '%s/%s' (spec.secretRef) has no '%s' key; create it with `kubectl create secret docker-registry`",
				obj.Namespace, spec.SecretRef.Name, oci.DockerConfigJSONKey)
		}
		configs = append(configs, cfg)
	}
	if spec.ServiceAccountName != "" {
		sa, err := e.ServiceAccount(ctx, obj.Namespace, spec.ServiceAccountName)
		if err != nil {
			return opts, loop.Failf(imageapi.AuthenticationFailedReason,
				"failed to get service account '%s/%s' (spec.serviceAccountName): %v", obj.Namespace, spec.ServiceAccountName, err)
		}
		for _, ref := range sa.ImagePullSecrets {
			s, err := e.getSecret(ctx, obj.Namespace, ref.Name, "imagePullSecrets of spec.serviceAccountName", imageapi.AuthenticationFailedReason)
			if err != nil {
				return opts, err
			}
			if cfg, ok := s.Data[oci.DockerConfigJSONKey]; ok {
				configs = append(configs, cfg)
			}
		}
	}
	if len(configs) > 0 {
		creds, err := img.CredentialsFromDockerConfig(spec.Image, configs...)
		if err != nil {
			return opts, loop.Failf(imageapi.AuthenticationFailedReason, "invalid registry credentials: %v", err)
		}
		opts.Credentials = creds
	}
	if spec.CertSecretRef != nil {
		s, err := e.getSecret(ctx, obj.Namespace, spec.CertSecretRef.Name, "spec.certSecretRef", imageapi.AuthenticationFailedReason)
		if err != nil {
			return opts, err
		}
		tls, err := oci.TLSFromSecret(s.Data)
		if err != nil {
			return opts, loop.Failf(imageapi.AuthenticationFailedReason, "invalid secret '%s/%s' (spec.certSecretRef): %v", obj.Namespace, spec.CertSecretRef.Name, err)
		}
		opts.TLS = tls
	}
	if spec.ProxySecretRef != nil {
		s, err := e.getSecret(ctx, obj.Namespace, spec.ProxySecretRef.Name, "spec.proxySecretRef", imageapi.ReadOperationFailedReason)
		if err != nil {
			return opts, err
		}
		proxy, err := proxyURL(s.Data)
		if err != nil {
			return opts, loop.Stallf(imageapi.ReadOperationFailedReason, "invalid secret '%s/%s' (spec.proxySecretRef): %v", obj.Namespace, spec.ProxySecretRef.Name, err)
		}
		opts.Proxy = proxy
	}
	return opts, nil
}

// proxyURL reads a Flux proxy Secret: address, and optional username and
// password. Errors never contain the password.
func proxyURL(data map[string][]byte) (*url.URL, error) {
	addr := strings.TrimSpace(string(data["address"]))
	if addr == "" {
		return nil, errors.New("the 'address' key is required")
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("'address' must be an http:// or https:// URL")
	}
	if u.User != nil {
		return nil, errors.New("'address' must not contain credentials; use the 'username' and 'password' keys")
	}
	if user := string(data["username"]); user != "" {
		u.User = url.UserPassword(user, string(data["password"]))
	}
	return u, nil
}

// scanError maps an engine error to Flux's reasons.
func scanError(err error) error {
	switch {
	case errors.Is(err, img.ErrAuthentication):
		return loop.Failf(imageapi.AuthenticationFailedReason, "%v", err)
	case errors.Is(err, img.ErrInvalidOptions):
		return loop.Stallf(imageapi.ImageURLInvalidReason, "%v", err)
	}
	return loop.Failf(imageapi.ReadOperationFailedReason, "%v", err)
}

// tagsRevision is a digest of the tag list, order aside: it changes when
// and only when the set of tags does.
func tagsRevision(tags []string) string {
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	h := sha256.New()
	for _, t := range sorted {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// latestTags is what Flux shows in status: the first tags in reverse
// alphabetical order.
func latestTags(tags []string) []string {
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	if len(sorted) > latestTagsCount {
		sorted = sorted[:latestTagsCount]
	}
	return sorted
}
