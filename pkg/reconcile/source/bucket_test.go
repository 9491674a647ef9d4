package source

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/artifact"
	"github.com/gitops-apiserver/gitops-apiserver/test/s3server"
)

func newBucketReconciler(t *testing.T, secrets map[string]map[string][]byte) (*BucketReconciler, *record.FakeRecorder) {
	t.Helper()
	store, err := artifact.NewStore(t.TempDir(), artifact.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events := record.NewFakeRecorder(100)
	return &BucketReconciler{Env: &Env{
		Secret: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			data, ok := secrets[name]
			if !ok {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
			}
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}, nil
		},
		Store:  store,
		Events: events,
		TmpDir: t.TempDir(),
	}}, events
}

func newBucket(endpoint string) *sourcev1.Bucket {
	return &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app", Generation: 1},
		Spec: sourcev1.BucketSpec{
			Provider: "generic", BucketName: "flux-bucket", Endpoint: endpoint, Insecure: true,
			Interval: "1m", SecretRef: &common.LocalObjectReference{Name: "creds"},
		},
	}
}

func TestBucketReconciler_StoresSkipsUnchangedAndKeepsTheLastArtifact(t *testing.T) {
	srv := s3server.NewServer(t, "ak", "sk-secret-value")
	srv.CreateBucket("flux-bucket")
	srv.PutObject("flux-bucket", "app.yaml", "kind: ConfigMap\n")
	secrets := map[string]map[string][]byte{"creds": {"accesskey": []byte("ak"), "secretkey": []byte("sk-secret-value")}}
	r, events := newBucketReconciler(t, secrets)
	obj := newBucket(srv.Endpoint())

	if res := r.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	first := obj.Status.Artifact
	if first == nil || !strings.HasPrefix(first.Revision, "sha256:") || !r.Store.Exists(first.Path) {
		t.Fatalf("artifact %+v", first)
	}
	if !apimeta.IsStatusConditionTrue(obj.Status.Conditions, common.ReadyCondition) ||
		!apimeta.IsStatusConditionTrue(obj.Status.Conditions, source.ArtifactInStorageCondition) {
		t.Errorf("conditions %+v", obj.Status.Conditions)
	}
	if e := <-events.Events; !strings.Contains(e, "NewArtifact") || !strings.Contains(e, "1 fetched files from 'flux-bucket'") {
		t.Errorf("event %q", e)
	}

	// Unchanged: no new artifact, no event.
	if res := r.Reconcile(context.Background(), obj); res.Err != nil || obj.Status.Artifact.LastUpdateTime != first.LastUpdateTime {
		t.Errorf("an unchanged bucket was fetched again (%v)", res.Err)
	}
	if len(events.Events) != 0 {
		t.Errorf("unexpected event %q", <-events.Events)
	}

	secrets["creds"]["secretkey"] = []byte("wrong-secret-value")
	res := r.Reconcile(context.Background(), obj)
	ready := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
	fetch := apimeta.FindStatusCondition(obj.Status.Conditions, source.FetchFailedCondition)
	if res.Err == nil || ready.Status != metav1.ConditionFalse || ready.Reason != source.AuthenticationFailedReason || fetch == nil {
		t.Fatalf("wrong key: err %v, conditions %+v", res.Err, obj.Status.Conditions)
	}
	if strings.Contains(ready.Message, "wrong-secret-value") {
		t.Errorf("the message shows the secret: %s", ready.Message)
	}
	if obj.Status.Artifact != first {
		t.Error("the last artifact was dropped")
	}

	secrets["creds"]["secretkey"] = []byte("sk-secret-value")
	srv.PutObject("flux-bucket", "app.yaml", "kind: Secret\n")
	if res := r.Reconcile(context.Background(), obj); res.Err != nil {
		t.Fatal(res.Err)
	}
	if obj.Status.Artifact.Revision == first.Revision || apimeta.FindStatusCondition(obj.Status.Conditions, source.FetchFailedCondition) != nil {
		t.Errorf("after the change: artifact %+v, conditions %+v", obj.Status.Artifact, obj.Status.Conditions)
	}
}

func TestBucketReconciler_StallsOnWhatIsNotSupported(t *testing.T) {
	tests := map[string]func(*sourcev1.Bucket){
		"provider 'gcp' is not supported yet":   func(b *sourcev1.Bucket) { b.Spec.Provider = "gcp" },
		"provider 'azure' is not supported yet": func(b *sourcev1.Bucket) { b.Spec.Provider = "azure" },
		"spec.sts":                              func(b *sourcev1.Bucket) { b.Spec.STS = &sourcev1.BucketSTSSpec{Provider: "aws"} },
	}
	for want, mutate := range tests {
		t.Run(want, func(t *testing.T) {
			r, _ := newBucketReconciler(t, nil)
			obj := newBucket("127.0.0.1:1")
			mutate(obj)
			r.Reconcile(context.Background(), obj)
			ready := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
			if ready == nil || ready.Status != metav1.ConditionFalse || !strings.Contains(ready.Message, want) ||
				!apimeta.IsStatusConditionTrue(obj.Status.Conditions, common.StalledCondition) {
				t.Errorf("conditions %+v", obj.Status.Conditions)
			}
		})
	}
}

func TestBucketReconciler_SuspendedDoesNothing(t *testing.T) {
	r, _ := newBucketReconciler(t, nil)
	obj := newBucket("127.0.0.1:1")
	obj.Spec.Suspend = true
	if res := r.Reconcile(context.Background(), obj); res.Err != nil || len(obj.Status.Conditions) != 0 {
		t.Errorf("suspended object was reconciled: %v %+v", res.Err, obj.Status.Conditions)
	}
}

func TestBucketReconciler_ServerCloudIdentityNeedsConsentInLockdown(t *testing.T) {
	r, _ := newBucketReconciler(t, nil)
	r.Lockdown = true
	obj := newBucket("127.0.0.1:1")
	obj.Spec.Provider = "aws"
	obj.Spec.SecretRef = nil
	r.Reconcile(context.Background(), obj)
	ready := apimeta.FindStatusCondition(obj.Status.Conditions, common.ReadyCondition)
	if ready == nil || !strings.Contains(ready.Message, "--allow-server-cloud-identity") ||
		!apimeta.IsStatusConditionTrue(obj.Status.Conditions, common.StalledCondition) {
		t.Errorf("in lockdown: conditions %+v", obj.Status.Conditions)
	}
	// With a Secret, or with the server's consent, nothing is refused.
	withSecret := obj.DeepCopy()
	obj.Status = sourcev1.BucketStatus{}
	withSecret.Spec.SecretRef = &common.LocalObjectReference{Name: "creds"}
	if err := r.unsupported(withSecret); err != nil {
		t.Errorf("with a secret: %v", err)
	}
	r.AllowServerCloudIdentity = true
	if err := r.unsupported(obj); err != nil {
		t.Errorf("with --allow-server-cloud-identity: %v", err)
	}
	r.Lockdown, r.AllowServerCloudIdentity = false, false
	if err := r.unsupported(obj); err != nil {
		t.Errorf("outside lockdown: %v", err)
	}
}
