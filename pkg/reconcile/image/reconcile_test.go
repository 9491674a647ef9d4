package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	imagev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/image/v1"
	img "github.com/gitops-apiserver/gitops-apiserver/pkg/image"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/oci/ocitest"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/reconcile/loop"
)

// The image workers run here against a real registry (ocitest) and, in
// automation_test.go, a real Git server; only the Kubernetes reads are
// fakes, of namespace testNamespace.

const testNamespace = "apps"

// testEnv is an Env whose Secrets and ServiceAccounts are maps.
type testEnv struct {
	*Env
	secrets  map[string]map[string][]byte
	accounts map[string]*corev1.ServiceAccount
	events   *record.FakeRecorder
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	tags, err := img.NewTagStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	te := &testEnv{secrets: map[string]map[string][]byte{}, accounts: map[string]*corev1.ServiceAccount{},
		events: record.NewFakeRecorder(1000)}
	te.Env = &Env{
		Secret: func(_ context.Context, namespace, name string) (*corev1.Secret, error) {
			if data, ok := te.secrets[name]; ok && namespace == testNamespace {
				return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: data}, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
		},
		ServiceAccount: func(_ context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
			if sa, ok := te.accounts[name]; ok && namespace == testNamespace {
				return sa, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
		},
		Namespace: func(_ context.Context, name string) (*corev1.Namespace, error) {
			return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil
		},
		Tags:   tags,
		Events: te.events,
	}
	return te
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ready is the Ready condition (never nil: an empty one when missing).
func ready(conds []metav1.Condition) metav1.Condition {
	if c := apimeta.FindStatusCondition(conds, common.ReadyCondition); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func stalled(conds []metav1.Condition) bool {
	return apimeta.IsStatusConditionTrue(conds, common.StalledCondition)
}

// dockerConfig is a kubernetes.io/dockerconfigjson Secret's data.
func dockerConfig(host, user, pass string) map[string][]byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth)}
}

func pushTags(t *testing.T, reg *ocitest.Registry, repo string, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		reg.Push(t, repo, tag, ocitest.Image(t, map[string]string{"version": tag}, nil, ""))
	}
}

func imageRepository(image string) *imagev1.ImageRepository {
	return &imagev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "app", Generation: 1},
		Spec: imagev1.ImageRepositorySpec{Image: image, Interval: "5m", Insecure: true}}
}

// scan runs the ImageRepository worker once.
func scan(t *testing.T, te *testEnv, obj *imagev1.ImageRepository) loop.Result {
	t.Helper()
	return (&ImageRepositoryReconciler{Env: te.Env}).Reconcile(testContext(t), obj)
}

func storedTags(t *testing.T, te *testEnv, obj *imagev1.ImageRepository) []string {
	t.Helper()
	tags, err := te.Tags.Get(tagKey(obj.Namespace, obj.Name))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	return tags
}

// TestImageRepository_ServiceAccountImagePullSecretsAuthenticate: a private
// registry is scanned with the imagePullSecrets of spec.serviceAccountName.
func TestImageRepository_ServiceAccountImagePullSecretsAuthenticate(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "robot", Password: "registry-pw"})
	pushTags(t, reg, "team/app", "1.0.0", "1.1.0")
	te := newTestEnv(t)
	te.secrets["regcred"] = dockerConfig(reg.Host, "robot", "registry-pw")
	obj := imageRepository(reg.Host + "/team/app")

	if res := scan(t, te, obj); res.Err == nil || ready(obj.Status.Conditions).Reason != "AuthenticationFailed" {
		t.Fatalf("anonymous: %v, Ready %+v; want AuthenticationFailed", res.Err, ready(obj.Status.Conditions))
	}
	obj.Spec.ServiceAccountName = "puller"
	if res := scan(t, te, obj); res.Err == nil || !strings.Contains(res.Err.Error(), "spec.serviceAccountName") {
		t.Fatalf("missing service account: %v, want an error naming spec.serviceAccountName", res.Err)
	}
	te.accounts["puller"] = &corev1.ServiceAccount{ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}
	if res := scan(t, te, obj); res.Err != nil {
		t.Fatalf("with the service account's pull secret: %v", res.Err)
	}
	if got := storedTags(t, te, obj); !slices.Equal(got, []string{"1.0.0", "1.1.0"}) {
		t.Errorf("tags = %v", got)
	}
	if r := ready(obj.Status.Conditions); r.Status != metav1.ConditionTrue || obj.Status.LastScanResult.TagCount != 2 {
		t.Errorf("Ready %+v, last scan %+v", r, obj.Status.LastScanResult)
	}
}

// TestImageRepository_CertSecretRefTrustsTheRegistry: a registry with a
// certificate of its own CA is scanned once spec.certSecretRef holds it.
func TestImageRepository_CertSecretRefTrustsTheRegistry(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{TLS: true})
	pushTags(t, reg, "app", "1.0.0")
	te := newTestEnv(t)
	te.secrets["ca"] = map[string][]byte{"ca.crt": reg.CACert()}
	obj := imageRepository(reg.Host + "/app")
	obj.Spec.Insecure = false

	if res := scan(t, te, obj); res.Err == nil || !strings.Contains(res.Err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want a certificate error", res.Err)
	}
	obj.Spec.CertSecretRef = &common.LocalObjectReference{Name: "ca"}
	if res := scan(t, te, obj); res.Err != nil || obj.Status.LastScanResult == nil || obj.Status.LastScanResult.TagCount != 1 {
		t.Fatalf("with the CA: %v, %+v", res.Err, obj.Status.LastScanResult)
	}
}

// recordingProxy is a forward HTTP proxy that sends every request to one
// registry and records the host asked for and the proxy credentials.
type recordingProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "<host> <Proxy-Authorization>"
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	p := &recordingProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Scheme, pr.Out.URL.Host = "http", target
	}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Host+" "+r.Header.Get("Proxy-Authorization"))
		p.mu.Unlock()
		if r.Method == http.MethodConnect {
			http.Error(w, "no tunnels", http.StatusMethodNotAllowed)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *recordingProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// TestImageRepository_ProxySecretRefRoutesThroughTheProxy: an image whose
// registry cannot be reached directly is scanned through the proxy of
// spec.proxySecretRef, which gets the Secret's credentials.
func TestImageRepository_ProxySecretRefRoutesThroughTheProxy(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushTags(t, reg, "team/app", "1.0.0", "2.0.0")
	proxy := newRecordingProxy(t, reg.Host)
	te := newTestEnv(t)
	te.secrets["proxy"] = map[string][]byte{"address": []byte(proxy.URL), "username": []byte("proxy-user"), "password": []byte("proxy-pw")}
	obj := imageRepository("127.0.0.1:1/team/app") // nothing listens there

	if res := scan(t, te, obj); res.Err == nil {
		t.Fatal("the unreachable registry was scanned without a proxy")
	}
	obj.Spec.ProxySecretRef = &common.LocalObjectReference{Name: "proxy"}
	if res := scan(t, te, obj); res.Err != nil {
		t.Fatalf("through the proxy: %v", res.Err)
	}
	if got := storedTags(t, te, obj); !slices.Equal(got, []string{"1.0.0", "2.0.0"}) {
		t.Errorf("tags = %v", got)
	}
	seen := proxy.requests()
	want := "127.0.0.1:1 Basic " + base64.StdEncoding.EncodeToString([]byte("proxy-user:proxy-pw"))
	if len(seen) == 0 {
		t.Fatal("no request went through the proxy")
	}
	for _, s := range seen {
		if s != want {
			t.Errorf("proxied request %q, want %q", s, want)
		}
	}
}

// TestImageRepository_InsecureAllowsPlainHTTP: a registry that is not on a
// loopback or private address is only spoken to over HTTPS unless
// spec.insecure allows plain HTTP. The registry is reached through a proxy,
// which refuses the CONNECT tunnels HTTPS needs.
func TestImageRepository_InsecureAllowsPlainHTTP(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushTags(t, reg, "team/app", "1.0.0")
	proxy := newRecordingProxy(t, reg.Host)
	te := newTestEnv(t)
	te.secrets["proxy"] = map[string][]byte{"address": []byte(proxy.URL)}
	obj := imageRepository("registry.example:5000/team/app")
	obj.Spec.ProxySecretRef = &common.LocalObjectReference{Name: "proxy"}

	obj.Spec.Insecure = false
	if res := scan(t, te, obj); res.Err == nil {
		t.Fatal("scanned over plain HTTP without spec.insecure")
	}
	obj.Spec.Insecure = true
	if res := scan(t, te, obj); res.Err != nil || obj.Status.LastScanResult == nil || obj.Status.LastScanResult.TagCount != 1 {
		t.Fatalf("with spec.insecure: %v, %+v", res.Err, obj.Status.LastScanResult)
	}
}

// hangingRegistry accepts connections and never answers; it is closed
// when the test ends.
func hangingRegistry(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestImageRepository_TimeoutBoundsTheScan: a registry that never answers
// fails the scan after spec.timeout, not the default minute.
func TestImageRepository_TimeoutBoundsTheScan(t *testing.T) {
	te := newTestEnv(t)
	obj := imageRepository(hangingRegistry(t) + "/app")
	timeout := common.Duration("1s")
	obj.Spec.Timeout = &timeout
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- (&ImageRepositoryReconciler{Env: te.Env}).Reconcile(context.Background(), obj).Err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		t.Logf("failed after %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		t.Fatal("the scan did not end within 15s of a 1s spec.timeout")
	}
}

// TestImageRepository_ExclusionListFiltersAndRescans: excluded tags are not
// stored, and a changed exclusionList is scanned again at once, before the
// interval is up.
func TestImageRepository_ExclusionListFiltersAndRescans(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	pushTags(t, reg, "app", "1.0.0", "1.1.0-rc.1", "sha256-0a1b2c.sig")
	te := newTestEnv(t)
	obj := imageRepository(reg.Host + "/app")
	obj.Spec.ExclusionList = []string{`^.*\.sig$`}

	if res := scan(t, te, obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := storedTags(t, te, obj); !slices.Equal(got, []string{"1.0.0", "1.1.0-rc.1"}) {
		t.Errorf("excluding signatures: tags = %v", got)
	}
	obj.Spec.ExclusionList = []string{`-rc\.`}
	res := scan(t, te, obj)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := storedTags(t, te, obj); !slices.Equal(got, []string{"1.0.0", "sha256-0a1b2c.sig"}) {
		t.Errorf("excluding release candidates: tags = %v (not scanned again?)", got)
	}
	if !slices.Equal(obj.Status.ObservedExclusionList, obj.Spec.ExclusionList) || res.RequeueAfter != 5*time.Minute {
		t.Errorf("observedExclusionList %v, requeue after %s", obj.Status.ObservedExclusionList, res.RequeueAfter)
	}
	obj.Spec.ExclusionList = []string{"("}
	if scan(t, te, obj); !stalled(obj.Status.Conditions) || !strings.Contains(ready(obj.Status.Conditions).Message, "exclusion pattern") {
		t.Errorf("an invalid pattern: Ready %+v, want a stall naming the exclusion pattern", ready(obj.Status.Conditions))
	}
}

// policyFixture is an ImagePolicy worker whose ImageRepository "app" was
// scanned (or has tags put in the store).
type policyFixture struct {
	te   *testEnv
	repo *imagev1.ImageRepository
	r    *ImagePolicyReconciler
}

func newPolicyFixture(t *testing.T, repo *imagev1.ImageRepository) *policyFixture {
	t.Helper()
	te := newTestEnv(t)
	f := &policyFixture{te: te, repo: repo}
	f.r = &ImagePolicyReconciler{Env: te.Env, GetRepository: func(namespace, name string) (*imagev1.ImageRepository, error) {
		if namespace != repo.Namespace || name != repo.Name {
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "imagerepositories"}, name)
		}
		return f.repo, nil
	}}
	return f
}

func imagePolicy(spec imagev1.ImagePolicySpec) *imagev1.ImagePolicy {
	spec.ImageRepositoryRef = common.NamespacedObjectReference{Name: "app"}
	return &imagev1.ImagePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "app", Generation: 1}, Spec: spec}
}

// TestImagePolicy_DigestReflectionPolicy: Never records no digest,
// IfNotPresent resolves it once and keeps it for the same tag, Always
// resolves it again every spec.interval.
func TestImagePolicy_DigestReflectionPolicy(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	first := reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"build": "1"}, nil, ""))
	f := newPolicyFixture(t, imageRepository(reg.Host+"/app"))
	if res := scan(t, f.te, f.repo); res.Err != nil {
		t.Fatal(res.Err)
	}
	interval := common.Duration("3m")
	obj := imagePolicy(imagev1.ImagePolicySpec{Policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
		DigestReflectionPolicy: imagev1.ReflectNever, Interval: &interval})
	run := func(policy imagev1.ReflectionPolicy) loop.Result {
		t.Helper()
		obj.Spec.DigestReflectionPolicy = policy
		res := f.r.Reconcile(testContext(t), obj)
		if res.Err != nil {
			t.Fatalf("%s: %v", policy, res.Err)
		}
		return res
	}

	if res := run(imagev1.ReflectNever); obj.Status.LatestRef.Digest != "" || res.RequeueAfter != 0 {
		t.Errorf("Never: latest %+v, requeue after %s; want no digest and no interval", obj.Status.LatestRef, res.RequeueAfter)
	}
	if res := run(imagev1.ReflectIfNotPresent); obj.Status.LatestRef.Digest != first || res.RequeueAfter != 0 {
		t.Errorf("IfNotPresent: latest %+v, requeue after %s; want digest %s and no interval", obj.Status.LatestRef, res.RequeueAfter, first)
	}
	second := reg.Push(t, "app", "1.0.0", ocitest.Image(t, map[string]string{"build": "2"}, nil, ""))
	if second == first {
		t.Fatal("the rebuilt tag has the same digest")
	}
	if run(imagev1.ReflectIfNotPresent); obj.Status.LatestRef.Digest != first {
		t.Errorf("IfNotPresent after a rebuild: digest %s, want the one already recorded, %s", obj.Status.LatestRef.Digest, first)
	}
	if res := run(imagev1.ReflectAlways); obj.Status.LatestRef.Digest != second || res.RequeueAfter != 3*time.Minute {
		t.Errorf("Always: latest %+v, requeue after %s; want digest %s every 3m (spec.interval)", obj.Status.LatestRef, res.RequeueAfter, second)
	}
}

// TestImagePolicy_PoliciesAndFilterPickFromTheScannedTags: each policy
// kind, its order and the tag filter decide the pick among the stored tags.
func TestImagePolicy_PoliciesAndFilterPickFromTheScannedTags(t *testing.T) {
	repo := imageRepository("registry.example/app")
	repo.Status.LastScanResult = &imagev1.ScanResult{TagCount: 8}
	f := newPolicyFixture(t, repo)
	tags := []string{"1.0.0", "1.0.3", "1.1.0", "alpha", "beta", "main-abc-100", "main-def-300", "main-fff-200"}
	if err := f.te.Tags.Put(tagKey(repo.Namespace, repo.Name), tags); err != nil {
		t.Fatal(err)
	}
	builds := &imagev1.TagFilter{Pattern: `^main-[a-f]+-(?P<ts>[0-9]+)$`, Extract: "$ts"}
	for _, tc := range []struct {
		name   string
		policy imagev1.ImagePolicyChoice
		filter *imagev1.TagFilter
		want   string
	}{
		{name: "semver range", policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "~1.0"}}, want: "1.0.3"},
		{name: "alphabetical asc", policy: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "asc"}}, want: "main-fff-200"},
		{name: "alphabetical desc", policy: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "desc"}}, want: "1.0.0"},
		{name: "numerical asc of the extracted timestamp", policy: imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "asc"}},
			filter: builds, want: "main-def-300"},
		{name: "numerical desc of the extracted timestamp", policy: imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "desc"}},
			filter: builds, want: "main-abc-100"},
		{name: "pattern without extract", policy: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "asc"}},
			filter: &imagev1.TagFilter{Pattern: `^(alpha|beta)$`}, want: "beta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := imagePolicy(imagev1.ImagePolicySpec{Policy: tc.policy, FilterTags: tc.filter})
			if res := f.r.Reconcile(testContext(t), obj); res.Err != nil {
				t.Fatal(res.Err)
			}
			if got := obj.Status.LatestRef; got == nil || got.Tag != tc.want || got.Name != "registry.example/app" {
				t.Errorf("latest %+v, want tag %s", got, tc.want)
			}
		})
	}
}
