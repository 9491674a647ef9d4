package notification

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	notificationv1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/receiver"
)

// objectStore is the Flux objects a Receiver may reconcile, and the
// reconciles it was asked for.
type objectStore struct {
	objects []Object
	mu      sync.Mutex
	asked   []string // "Kind/namespace/name"
}

func (s *objectStore) add(kind, namespace, name string, l map[string]string) {
	s.objects = append(s.objects, Object{Kind: kind, Namespace: namespace, Name: name, Labels: l,
		Content: map[string]any{"kind": kind, "metadata": map[string]any{"namespace": namespace, "name": name}}})
}

func (s *objectStore) get(kind, namespace, name string) (Object, error) {
	for _, o := range s.objects {
		if o.Kind == kind && o.Namespace == namespace && o.Name == name {
			return o, nil
		}
	}
	return Object{}, apierrors.NewNotFound(schema.GroupResource{Resource: kind}, name)
}

func (s *objectStore) list(kind, namespace string, selector labels.Selector) ([]Object, error) {
	var out []Object
	for _, o := range s.objects {
		if o.Kind == kind && o.Namespace == namespace && selector.Matches(labels.Set(o.Labels)) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *objectStore) requestReconcile(_ context.Context, o Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, o.Kind+"/"+o.Namespace+"/"+o.Name)
	return nil
}

// reconciled returns the reconciles asked for since the last call, sorted.
func (s *objectStore) reconciled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.asked
	s.asked = nil
	slices.Sort(out)
	return out
}

// TestReceiver_WebhookTriggersTheSelectedResources runs a github Receiver
// behind the webhook handler: a verified push reconciles the resources its
// spec selects (by name, by "*" and matchLabels, in another namespace, and
// through resourceFilter); other events, bad signatures and a suspended
// Receiver reconcile nothing.
func TestReceiver_WebhookTriggersTheSelectedResources(t *testing.T) {
	const token = "receiver-token"
	store := &objectStore{}
	store.add("GitRepository", "apps", "app", nil)
	store.add("GitRepository", "apps", "docs", nil)
	store.add("Kustomization", "apps", "a", map[string]string{"team": "a"})
	store.add("Kustomization", "apps", "b", map[string]string{"team": "b"})
	store.add("Kustomization", "apps", "skip", map[string]string{"team": "a"})
	store.add("HelmRelease", "other", "web", nil)
	secrets := map[string]string{"webhook-token": token, "other-token": "another-token"}
	rr := &ReceiverReconciler{
		Secret: func(_ context.Context, namespace, name string) (*corev1.Secret, error) {
			if v, ok := secrets[name]; ok && namespace == "apps" {
				return &corev1.Secret{Data: map[string][]byte{"token": []byte(v)}}, nil
			}
			return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
		},
		List: store.list, Get: store.get, RequestReconcile: store.requestReconcile, Events: record.NewFakeRecorder(100),
	}
	obj := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "github", Generation: 1},
		Spec: notificationv1.ReceiverSpec{
			Type: receiver.TypeGitHub, Events: []string{"push"},
			SecretRef: &common.LocalObjectReference{Name: "webhook-token"},
			Resources: []notificationv1.ReceiverResource{
				{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app"}},
				{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*", MatchLabels: map[string]string{"team": "a"}}},
				{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "HelmRelease", Name: "web", Namespace: "other"}},
			},
			ResourceFilter: `res.metadata.name != "skip"`,
		},
	}
	if res := rr.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	path := obj.Status.WebhookPath
	if path != receiver.WebhookPath(token, "github", "apps") || !apimeta.IsStatusConditionTrue(obj.Status.Conditions, common.ReadyCondition) {
		t.Fatalf("webhookPath %q, conditions %+v", path, obj.Status.Conditions)
	}
	srv := httptest.NewServer(&receiver.Handler{Lookup: rr.Lookup, Trigger: rr.Trigger, RatePerMinute: -1})
	t.Cleanup(srv.Close)
	body := []byte(`{"ref":"refs/heads/main"}`)
	post := func(event, key string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", event)
		if key != "" {
			mac := hmac.New(sha256.New, []byte(key))
			mac.Write(body)
			req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if code := post("push", token); code != http.StatusOK {
		t.Fatalf("a verified push answered %d", code)
	}
	want := []string{"GitRepository/apps/app", "HelmRelease/other/web", "Kustomization/apps/a"}
	if got := store.reconciled(); !slices.Equal(got, want) {
		t.Errorf("a verified push reconciled %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name, event, key string
		code             int
	}{
		{name: "an event not in spec.events", event: "issues", key: token, code: http.StatusOK},
		{name: "no signature (spec.type github)", event: "push", code: http.StatusUnauthorized},
		{name: "a signature with another token", event: "push", key: "another-token", code: http.StatusUnauthorized},
	} {
		if code := post(tc.event, tc.key); code != tc.code {
			t.Errorf("%s: answered %d, want %d", tc.name, code, tc.code)
		}
		if got := store.reconciled(); len(got) != 0 {
			t.Errorf("%s: reconciled %v", tc.name, got)
		}
	}

	obj.Spec.Suspend = true
	rr.Reconcile(context.Background(), obj)
	if code := post("push", token); code != http.StatusNotFound || len(store.reconciled()) != 0 {
		t.Errorf("a suspended Receiver answered %d; want 404 and nothing reconciled", code)
	}
	obj.Spec.Suspend = false
	obj.Spec.SecretRef.Name = "other-token"
	rr.Reconcile(context.Background(), obj)
	if obj.Status.WebhookPath == path || post("push", token) != http.StatusNotFound {
		t.Errorf("a new token in spec.secretRef kept the old path %s", path)
	}
}

// TestReceiver_WildcardNeedsMatchLabels: as Flux, a "*" resource without
// matchLabels selects nothing and is reported, instead of reconciling every
// object of the kind.
func TestReceiver_WildcardNeedsMatchLabels(t *testing.T) {
	store := &objectStore{}
	store.add("Kustomization", "apps", "a", nil)
	rr := &ReceiverReconciler{List: store.list, Get: store.get}
	_, err := rr.targets("apps", notificationv1.ReceiverResource{
		CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*"}})
	if err == nil || !strings.Contains(err.Error(), "matchLabels must be set") {
		t.Fatalf("wildcard without matchLabels: %v", err)
	}
}
