package loop

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	sourcev1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/source/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/clientset/versioned/fake"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/generated/informers/externalversions"
)

// countingReconciler records calls and sets Ready from err.
type countingReconciler struct {
	calls atomic.Int32
	err   error
	after time.Duration
	seen  chan string
	// revision, when set, is written as the artifact's.
	revision string
}

func (r *countingReconciler) Reconcile(_ context.Context, obj *sourcev1.GitRepository) Result {
	r.calls.Add(1)
	Summarize(&obj.Status.Conditions, Summary{Err: r.err, Generation: obj.Generation, SuccessReason: "Succeeded", SuccessMessage: "ok", FailureReason: "Failed"})
	obj.Status.ObservedGeneration = obj.Generation
	if r.revision != "" {
		obj.Status.Artifact = &common.Artifact{Revision: r.revision}
	}
	r.seen <- obj.Name
	return Result{Err: r.err, RequeueAfter: r.after}
}

type harness struct {
	client  *fake.Clientset
	rec     *countingReconciler
	updates atomic.Int32
	mu      sync.Mutex
	last    *sourcev1.GitRepository
	// done is closed when the controller has stopped.
	done chan struct{}
}

func start(t *testing.T, rec *countingReconciler, objs ...*sourcev1.GitRepository) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return startWith(t, ctx, nil, rec, objs...)
}

// startWith runs a controller until ctx is done, recording into m (nil:
// nothing).
func startWith(t *testing.T, ctx context.Context, m *Metrics, rec *countingReconciler, objs ...*sourcev1.GitRepository) *harness {
	t.Helper()
	h := &harness{client: fake.NewSimpleClientset(), rec: rec} //nolint:staticcheck // no managed fields needed here
	for _, o := range objs {
		if _, err := h.client.SourceV1().GitRepositories(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	factory := externalversions.NewSharedInformerFactory(h.client, 0)
	inf := factory.Source().V1().GitRepositories()
	c, err := New(Config[*sourcev1.GitRepository]{
		Kind: "GitRepository", Workers: 2, Informer: inf.Informer(),
		Get: func(ns, name string) (*sourcev1.GitRepository, error) {
			return inf.Lister().GitRepositories(ns).Get(name)
		},
		UpdateStatus: func(ctx context.Context, obj *sourcev1.GitRepository) error {
			h.updates.Add(1)
			h.mu.Lock()
			h.last = obj.DeepCopy()
			h.mu.Unlock()
			_, err := h.client.SourceV1().GitRepositories(obj.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
			return err
		},
		Reconciler: rec,
		MaxBackoff: 50 * time.Millisecond,
		Metrics:    m,
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		_ = c.Run(ctx)
	}()
	return h
}

func repo(name string) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Generation: 1},
		Spec: sourcev1.GitRepositorySpec{URL: "https://example.com/x.git", Interval: "1m"}}
}

func waitFor(t *testing.T, ch chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("reconciled %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no reconciliation of %q", want)
	}
}

func TestLoop_ReconcilesNewObjectsAndWritesStatusOnce(t *testing.T) {
	rec := &countingReconciler{seen: make(chan string, 10)}
	h := start(t, rec, repo("a"))
	waitFor(t, rec.seen, "a")
	// The status write comes back as an update event that must not trigger
	// another run (only generation or request changes do).
	time.Sleep(300 * time.Millisecond)
	if n := rec.calls.Load(); n != 1 {
		t.Errorf("reconciled %d times, want 1", n)
	}
	if n := h.updates.Load(); n != 1 {
		t.Errorf("%d status writes, want 1", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last.Status.ObservedGeneration != 1 || len(h.last.Status.Conditions) != 1 || h.last.Status.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("status = %+v", h.last.Status)
	}
}

func TestLoop_ReconcileRequestAnnotationTriggersARun(t *testing.T) {
	rec := &countingReconciler{seen: make(chan string, 10)}
	h := start(t, rec, repo("a"))
	waitFor(t, rec.seen, "a")
	obj, _ := h.client.SourceV1().GitRepositories("ns").Get(context.Background(), "a", metav1.GetOptions{})
	obj.Annotations = map[string]string{common.ReconcileRequestAnnotation: "now"}
	if _, err := h.client.SourceV1().GitRepositories("ns").Update(context.Background(), obj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec.seen, "a")
}

func TestLoop_RequeuesAtIntervalAndRetriesFailures(t *testing.T) {
	rec := &countingReconciler{seen: make(chan string, 10), after: 100 * time.Millisecond}
	start(t, rec, repo("a"))
	waitFor(t, rec.seen, "a")
	waitFor(t, rec.seen, "a") // requeued after the interval

	failing := &countingReconciler{seen: make(chan string, 10), err: Failf("GitOperationFailed", "boom"), after: time.Hour}
	start(t, failing, repo("b"))
	waitFor(t, failing.seen, "b")
	waitFor(t, failing.seen, "b") // retried with backoff, long before the interval

	// A run still in progress is looked at again when it asks, not at the
	// interval and not with backoff.
	progressing := &countingReconciler{seen: make(chan string, 10), err: Progressf(50*time.Millisecond, "waiting"), after: time.Hour}
	start(t, progressing, repo("c"))
	began := time.Now()
	for range 3 {
		waitFor(t, progressing.seen, "c")
	}
	// Backoff would take 1s+2s for the two retries.
	if took := time.Since(began); took > 2500*time.Millisecond {
		t.Errorf("three runs took %s", took)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err     error
		outcome Outcome
		reason  string
	}{
		{nil, Succeeded, ""},
		{Failf("R1", "x"), Failed, "R1"},
		{Stallf("R2", "x"), Stalled, "R2"},
		{Waitf("R3", time.Second, "x"), Waited, "R3"},
		{Progressf(time.Second, "x"), InProgress, "Progressing"},
		{errors.New("plain"), Failed, "Default"},
	} {
		o, r := Classify(tc.err, "Default")
		if o != tc.outcome || r != tc.reason {
			t.Errorf("%v: got %v %q, want %v %q", tc.err, o, r, tc.outcome, tc.reason)
		}
	}
}

func TestSummarize_FluxConditions(t *testing.T) {
	var conds []metav1.Condition
	Summarize(&conds, Summary{Err: Stallf("InvalidURL", "bad url"), Generation: 2})
	if got := condStatus(conds, "Stalled"); got != "True" || condStatus(conds, "Ready") != "False" || condStatus(conds, "Reconciling") != "" {
		t.Errorf("stalled: %+v", conds)
	}
	Summarize(&conds, Summary{Err: Failf("GitOperationFailed", "timeout"), Generation: 2})
	if condStatus(conds, "Reconciling") != "True" || condStatus(conds, "Stalled") != "" || condStatus(conds, "Ready") != "False" {
		t.Errorf("failed: %+v", conds)
	}
	Summarize(&conds, Summary{Err: Progressf(time.Second, "Running health checks"), Generation: 3})
	if condStatus(conds, "Ready") != "Unknown" || condStatus(conds, "Reconciling") != "True" || condStatus(conds, "Stalled") != "" {
		t.Errorf("in progress: %+v", conds)
	}
	for _, c := range conds {
		if c.Reason != "Progressing" || c.Message != "Running health checks" {
			t.Errorf("in progress: %+v", c)
		}
	}
	Summarize(&conds, Summary{SuccessReason: "Succeeded", SuccessMessage: "stored", Generation: 3})
	if condStatus(conds, "Ready") != "True" || len(conds) != 1 || conds[0].ObservedGeneration != 3 {
		t.Errorf("succeeded: %+v", conds)
	}
}

func condStatus(conds []metav1.Condition, t string) string {
	for _, c := range conds {
		if c.Type == t {
			return string(c.Status)
		}
	}
	return ""
}

func TestWriteStatus_ConflictCarriesTheRunsStatusOverToTheStoredObject(t *testing.T) {
	stored := repo("a")
	stored.ResourceVersion = "2"
	stored.Labels = map[string]string{"changed": "meanwhile"}
	var writes []*sourcev1.GitRepository
	c := &Controller[*sourcev1.GitRepository]{cfg: Config[*sourcev1.GitRepository]{
		UpdateStatus: func(_ context.Context, obj *sourcev1.GitRepository) error {
			writes = append(writes, obj.DeepCopy())
			if obj.ResourceVersion != stored.ResourceVersion {
				return apierrors.NewConflict(schema.GroupResource{Resource: "gitrepositories"}, obj.Name, errors.New("stale"))
			}
			return nil
		},
		GetLive: func(context.Context, string, string) (*sourcev1.GitRepository, error) { return stored.DeepCopy(), nil },
	}}
	run := repo("a")
	run.ResourceVersion = "1"
	run.Status.Artifact = &common.Artifact{Revision: "main@sha1:abc"}
	run.Status.ObservedGeneration = 1

	if err := c.writeStatus(context.Background(), cache.ObjectName{Namespace: "ns", Name: "a"}, run); err != nil {
		t.Fatal(err)
	}
	if len(writes) != 2 {
		t.Fatalf("%d writes, want 2", len(writes))
	}
	last := writes[1]
	if last.ResourceVersion != "2" || last.Labels["changed"] != "meanwhile" {
		t.Errorf("the retry did not write onto the stored object: %+v", last.ObjectMeta)
	}
	if last.Status.Artifact == nil || last.Status.Artifact.Revision != "main@sha1:abc" || last.Status.ObservedGeneration != 1 {
		t.Errorf("the run's status was lost: %+v", last.Status)
	}

	// Without GetLive the conflict is returned (the run is retried).
	c.cfg.GetLive = nil
	writes = nil
	if err := c.writeStatus(context.Background(), cache.ObjectName{Namespace: "ns", Name: "a"}, run); !apierrors.IsConflict(err) || len(writes) != 1 {
		t.Errorf("without GetLive: %v after %d writes", err, len(writes))
	}
}
