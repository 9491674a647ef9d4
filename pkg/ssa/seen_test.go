package ssa

import (
	"context"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestContentHash_IgnoresWhatTheServerRewrites(t *testing.T) {
	base := obj("v1", "ConfigMap", "apps", "c")
	base.Object["data"] = map[string]any{"a": "1"}
	h := contentHash(base)

	rewritten := base.DeepCopy()
	rewritten.SetResourceVersion("42")
	rewritten.SetGeneration(7)
	rewritten.Object["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{"manager": "x"}}
	rewritten.Object["status"] = map[string]any{"observedGeneration": int64(7)}
	if contentHash(rewritten) != h {
		t.Error("managedFields, resourceVersion, generation or status changed the hash")
	}
	if _, ok := rewritten.Object["status"]; !ok || rewritten.GetResourceVersion() != "42" {
		t.Error("contentHash modified its input")
	}

	changed := base.DeepCopy()
	changed.Object["data"] = map[string]any{"a": "2"}
	labelled := base.DeepCopy()
	labelled.SetLabels(map[string]string{"x": "y"})
	for name, u := range map[string]*unstructured.Unstructured{"data": changed, "labels": labelled} {
		if contentHash(u) == h {
			t.Errorf("a change of %s kept the hash", name)
		}
	}
}

func TestForEach_StopsStartingAfterStop(t *testing.T) {
	var started atomic.Int32
	var stop atomic.Bool
	forEach(context.Background(), 100, stop.Load, func(int) {
		stop.Store(true) // every call fails
		started.Add(1)
	})
	// Only calls launched before the first one ran (at most a full
	// semaphore) may run.
	if n := started.Load(); n > concurrency {
		t.Errorf("%d calls ran, want at most %d", n, concurrency)
	}

	var all atomic.Int32
	forEach(context.Background(), 25, func() bool { return false }, func(int) { all.Add(1) })
	if all.Load() != 25 {
		t.Errorf("ran %d of 25", all.Load())
	}
}
