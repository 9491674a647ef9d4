package notification

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	notificationv1beta3 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// received is one request a sink got.
type received struct {
	method, path, host string
	header             http.Header
	body               []byte
}

// sink is a loopback endpoint that records what it receives and answers
// as the APIs the notifiers call do ([] to listings, {} to the rest). As a
// forward proxy (target set) it sends every request on to target.
type sink struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newSink(t *testing.T, tls bool, target string) *sink {
	t.Helper()
	s := &sink{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Scheme, pr.Out.URL.Host = "http", target
	}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, received{method: r.Method, path: r.URL.Path, host: r.Host, header: r.Header.Clone(), body: body})
		s.mu.Unlock()
		switch {
		case target != "":
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			rp.ServeHTTP(w, r)
		case r.Method == http.MethodGet:
			_, _ = w.Write([]byte(`[]`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	})
	s.Server = httptest.NewUnstartedServer(h)
	// Handshakes refused by a client without the CA are what a test wants.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// last is the last request, failing the test when there is none.
func (s *sink) last(t *testing.T) received {
	t.Helper()
	got := s.requests()
	if len(got) == 0 {
		t.Fatal("the endpoint received nothing")
	}
	return got[len(got)-1]
}

// routesFixture is a Routes over in-memory Alerts, Providers, Secrets and
// labels of namespace "apps".
type routesFixture struct {
	alerts    []*notificationv1beta3.Alert
	providers map[string]*notificationv1beta3.Provider
	secrets   map[string]map[string][]byte
	labels    map[string]map[string]string // "kind/namespace/name"
	r         *Routes
}

func newRoutesFixture() *routesFixture {
	f := &routesFixture{providers: map[string]*notificationv1beta3.Provider{}, secrets: map[string]map[string][]byte{},
		labels: map[string]map[string]string{}}
	f.r = &Routes{
		ListAlerts: func() ([]*notificationv1beta3.Alert, error) { return f.alerts, nil },
		GetProvider: func(namespace, name string) (*notificationv1beta3.Provider, error) {
			if p, ok := f.providers[name]; ok && namespace == "apps" {
				return p, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "providers"}, name)
		},
		Secret: func(_ context.Context, namespace, name string) (*corev1.Secret, error) {
			if data, ok := f.secrets[name]; ok && namespace == "apps" {
				return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: "1"}, Data: data}, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
		},
		LabelsOf: func(kind, namespace, name string) map[string]string { return f.labels[kind+"/"+namespace+"/"+name] },
		Events:   record.NewFakeRecorder(100),
	}
	return f
}

func (f *routesFixture) provider(name string, spec notificationv1beta3.ProviderSpec) {
	f.providers[name] = &notificationv1beta3.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, UID: types.UID(name + "-0a1b2c3d"), ResourceVersion: "1"}, Spec: spec}
}

func (f *routesFixture) alert(name string, spec notificationv1beta3.AlertSpec) {
	f.alerts = append(f.alerts, &notificationv1beta3.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, UID: types.UID(name + "-uid"), Generation: 1}, Spec: spec})
}

// revision is the commit the test events are about.
const revision = "main@sha1:0123456789abcdef0123456789abcdef01234567"

// send adds Provider name with spec and an Alert that sends it the events
// of GitRepository apps/<name>, routes one such event and sends it.
func (f *routesFixture) send(t *testing.T, name string, spec notificationv1beta3.ProviderSpec) error {
	t.Helper()
	f.provider(name, spec)
	f.alert("to-"+name, notificationv1beta3.AlertSpec{ProviderRef: common.LocalObjectReference{Name: name},
		EventSources: []notificationv1beta3.CrossNamespaceObjectReference{{Kind: "GitRepository", Name: name}}})
	e := event("GitRepository", "apps", name, SeverityInfo, "stored artifact")
	e.Metadata = map[string]string{"revision": revision}
	ds := f.r.Route(context.Background(), e)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return ds[0].Send(ctx, ds[0].Event)
}

// hangingAddress accepts connections and never answers.
func hangingAddress(t *testing.T) string {
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

// TestRoutes_ProviderSpecReachesTheNotifier sends an event through a
// Provider per field and checks what arrives.
func TestRoutes_ProviderSpecReachesTheNotifier(t *testing.T) {
	hook := newSink(t, false, "")
	tlsHook := newSink(t, true, "")
	f := newRoutesFixture()
	f.secrets["hook"] = map[string][]byte{"address": []byte(hook.URL + "/from-secret"), "headers": []byte("X-Team: platform\n")}
	f.secrets["gh"] = map[string][]byte{"token": []byte("gh-token")}
	f.secrets["ca"] = map[string][]byte{"ca.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsHook.Certificate().Raw})}
	unreachable := "http://127.0.0.1:1/hook" // nothing listens there

	t.Run("type generic and address", func(t *testing.T) {
		if err := f.send(t, "generic", notificationv1beta3.ProviderSpec{Type: "generic", Address: hook.URL + "/spec"}); err != nil {
			t.Fatal(err)
		}
		got := hook.last(t)
		var e notify.Event
		if err := json.Unmarshal(got.body, &e); err != nil || got.path != "/spec" || e.InvolvedObject.Name != "generic" {
			t.Errorf("POST %s %s (%v)", got.path, got.body, err)
		}
	})
	t.Run("secretRef address and headers", func(t *testing.T) {
		if err := f.send(t, "secret", notificationv1beta3.ProviderSpec{Type: "generic", Address: hook.URL + "/spec",
			SecretRef: &common.LocalObjectReference{Name: "hook"}}); err != nil {
			t.Fatal(err)
		}
		if got := hook.last(t); got.path != "/from-secret" || got.header.Get("X-Team") != "platform" {
			t.Errorf("POST %s with X-Team %q, want the Secret's address and headers", got.path, got.header.Get("X-Team"))
		}
	})
	t.Run("type slack, channel and username", func(t *testing.T) {
		if err := f.send(t, "slack", notificationv1beta3.ProviderSpec{Type: "slack", Address: hook.URL + "/slack", Channel: "#ops", Username: "flux-bot"}); err != nil {
			t.Fatal(err)
		}
		var p struct{ Channel, Username string }
		if got := hook.last(t); json.Unmarshal(got.body, &p) != nil || got.path != "/slack" || p.Channel != "#ops" || p.Username != "flux-bot" {
			t.Errorf("POST %s %s, want Slack's payload with channel #ops and username flux-bot", got.path, got.body)
		}
	})
	t.Run("commitStatusExpr", func(t *testing.T) {
		if err := f.send(t, "status", notificationv1beta3.ProviderSpec{Type: "github", Address: hook.URL + "/org/app",
			SecretRef: &common.LocalObjectReference{Name: "gh"}, CommitStatusExpr: `"flux/" + event.involvedObject.name`}); err != nil {
			t.Fatal(err)
		}
		var s struct{ Context string }
		got := hook.last(t)
		if json.Unmarshal(got.body, &s) != nil || got.path != "/api/v3/repos/org/app/statuses/0123456789abcdef0123456789abcdef01234567" || s.Context != "flux/status" {
			t.Errorf("POST %s %s, want the commit status with context flux/status", got.path, got.body)
		}
	})
	t.Run("certSecretRef", func(t *testing.T) {
		err := f.send(t, "untrusted", notificationv1beta3.ProviderSpec{Type: "generic", Address: tlsHook.URL})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("without the CA: %v, want a certificate error", err)
		}
		if err := f.send(t, "trusted", notificationv1beta3.ProviderSpec{Type: "generic", Address: tlsHook.URL,
			CertSecretRef: &common.LocalObjectReference{Name: "ca"}}); err != nil {
			t.Fatalf("with the CA: %v", err)
		}
	})
	t.Run("proxy", func(t *testing.T) {
		proxy := newSink(t, false, hook.Listener.Addr().String())
		if err := f.send(t, "direct", notificationv1beta3.ProviderSpec{Type: "generic", Address: unreachable}); err == nil {
			t.Fatal("the unreachable address was reached without a proxy")
		}
		if err := f.send(t, "proxied", notificationv1beta3.ProviderSpec{Type: "generic", Address: unreachable, Proxy: proxy.URL}); err != nil {
			t.Fatal(err)
		}
		if got := proxy.last(t); got.host != "127.0.0.1:1" {
			t.Errorf("the proxy was asked for %q", got.host)
		}
	})
	t.Run("proxySecretRef", func(t *testing.T) {
		proxy := newSink(t, false, hook.Listener.Addr().String())
		f.secrets["proxy"] = map[string][]byte{"address": []byte(proxy.URL), "username": []byte("proxy-user"), "password": []byte("proxy-pw")}
		if err := f.send(t, "proxied-secret", notificationv1beta3.ProviderSpec{Type: "generic", Address: unreachable,
			ProxySecretRef: &common.LocalObjectReference{Name: "proxy"}}); err != nil {
			t.Fatal(err)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("proxy-user:proxy-pw"))
		if got := proxy.last(t); got.host != "127.0.0.1:1" || got.header.Get("Proxy-Authorization") != want {
			t.Errorf("the proxy was asked for %q with Proxy-Authorization %q", got.host, got.header.Get("Proxy-Authorization"))
		}
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		timeout := common.Duration("1s")
		err := f.send(t, "slow", notificationv1beta3.ProviderSpec{Type: "generic", Address: "http://" + hangingAddress(t) + "/", Timeout: &timeout})
		if err == nil || time.Since(start) > 10*time.Second {
			t.Errorf("after %v: %v; want a failure after spec.timeout (1s), not the default 15s", time.Since(start), err)
		}
	})
	t.Run("suspend", func(t *testing.T) {
		before := len(hook.requests())
		if err := f.send(t, "suspended", notificationv1beta3.ProviderSpec{Type: "generic", Address: hook.URL, Suspend: true}); err != nil {
			t.Fatal(err)
		}
		if n := len(hook.requests()); n != before {
			t.Errorf("a suspended Provider sent %d requests", n-before)
		}
	})
	t.Run("serviceAccountName", func(t *testing.T) {
		err := f.send(t, "identity", notificationv1beta3.ProviderSpec{Type: "generic", Address: hook.URL, ServiceAccountName: "notifier"})
		if err == nil || !strings.Contains(err.Error(), "spec.serviceAccountName") {
			t.Errorf("err = %v, want a refusal naming spec.serviceAccountName", err)
		}
	})
}

// TestRoutes_AlertSpecSelectsAndEnrichesEvents: an Alert's sources,
// severity and lists pick the events it sends, its summary and
// eventMetadata are added to them, and they go to its providerRef.
func TestRoutes_AlertSpecSelectsAndEnrichesEvents(t *testing.T) {
	hook := newSink(t, false, "")
	f := newRoutesFixture()
	f.provider("hook", notificationv1beta3.ProviderSpec{Type: "generic", Address: hook.URL + "/hook"})
	f.provider("other", notificationv1beta3.ProviderSpec{Type: "generic", Address: hook.URL + "/other"})
	f.labels["HelmRelease/team/web"] = map[string]string{"team": "a"}
	f.labels["HelmRelease/team/api"] = map[string]string{"team": "b"}
	type sources = []notificationv1beta3.CrossNamespaceObjectReference
	f.alert("failures", notificationv1beta3.AlertSpec{ProviderRef: common.LocalObjectReference{Name: "hook"},
		EventSeverity: SeverityError, EventSources: sources{{Kind: "Kustomization", Name: "*"}},
		InclusionList: []string{"failed"}, ExclusionList: []string{"^skip"},
		Summary: "cluster A", EventMetadata: map[string]string{"env": "prod"}})
	f.alert("team-a", notificationv1beta3.AlertSpec{ProviderRef: common.LocalObjectReference{Name: "other"},
		EventSources: sources{{Kind: "HelmRelease", Name: "*", Namespace: "team", MatchLabels: map[string]string{"team": "a"}}}})
	f.alert("one-source", notificationv1beta3.AlertSpec{ProviderRef: common.LocalObjectReference{Name: "other"},
		EventSources: sources{{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "app"}}})
	f.alert("suspended", notificationv1beta3.AlertSpec{ProviderRef: common.LocalObjectReference{Name: "hook"},
		EventSources: sources{{Kind: "Kustomization", Name: "*"}}, Suspend: true})

	for _, tc := range []struct {
		e    notify.Event
		want []string
	}{
		{event("Kustomization", "apps", "x", SeverityError, "build failed"), []string{"apps/failures"}},
		{event("Kustomization", "apps", "x", SeverityInfo, "build failed"), nil},     // eventSeverity
		{event("Kustomization", "apps", "x", SeverityError, "health check ok"), nil}, // inclusionList
		{event("Kustomization", "apps", "x", SeverityError, "skip: it failed"), nil}, // exclusionList
		{event("Kustomization", "other", "x", SeverityError, "build failed"), nil},   // the Alert's namespace
		{event("HelmRelease", "team", "web", SeverityInfo, "installed"), []string{"apps/team-a"}},
		{event("HelmRelease", "team", "api", SeverityInfo, "installed"), nil}, // matchLabels
		{event("HelmRelease", "apps", "web", SeverityInfo, "installed"), nil}, // namespace
		{event("GitRepository", "apps", "app", SeverityInfo, "stored"), []string{"apps/one-source"}},
		{event("GitRepository", "apps", "docs", SeverityInfo, "stored"), nil}, // name
	} {
		var got []string
		for _, d := range f.r.Route(context.Background(), tc.e) {
			got = append(got, d.Alert)
		}
		if !slices.Equal(got, tc.want) {
			o := tc.e.InvolvedObject
			t.Errorf("%s %s/%s %s %q: Alerts %v, want %v", o.Kind, o.Namespace, o.Name, tc.e.Severity, tc.e.Message, got, tc.want)
		}
	}

	ds := f.r.Route(context.Background(), event("Kustomization", "apps", "x", SeverityError, "build failed"))
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	if err := ds[0].Send(context.Background(), ds[0].Event); err != nil {
		t.Fatal(err)
	}
	got := hook.last(t)
	var sent notify.Event
	if err := json.Unmarshal(got.body, &sent); err != nil {
		t.Fatal(err)
	}
	if ds[0].Provider != "apps/hook" || got.path != "/hook" || sent.Metadata["summary"] != "cluster A" || sent.Metadata["env"] != "prod" {
		t.Errorf("sent to %s (%s) with metadata %v; want the Provider hook, the summary and eventMetadata", ds[0].Provider, got.path, sent.Metadata)
	}
}
