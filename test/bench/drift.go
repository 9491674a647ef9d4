package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// driftResult is how long a manual change of a managed object lasted on
// an idle server: an edit of one app's ConfigMap (kubectl edit), then its
// deletion (kubectl delete), each timed from the write's answer until a
// watch saw the object as the Kustomization applies it.
type driftResult struct {
	EditSeconds   float64 `json:"editRevertedSeconds"`
	DeleteSeconds float64 `json:"deleteRevertedSeconds"`
}

// driftBound is how long the harness waits for a revert; the intervals
// are far longer, so only the server's watch can revert within it.
const driftBound = 30 * time.Second

// drift measures, after the idle phase, how fast a manual edit and a
// deletion of a managed object are reverted (issue 17: under 2 s at
// N=1000 idle). The app in the middle of the range is used, so neither
// the first nor the last object of any list is favoured.
func (r *run) drift(ctx context.Context) {
	ns, name := benchNamespace(r.cfg.N/2), "web-config"
	res := &driftResult{}
	r.res.Drift = res
	cms := r.kube.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		r.res.fail("drift: %v", err)
		return
	}
	want := cm.Data["greeting"]
	applied := func(cm *corev1.ConfigMap) bool { return cm != nil && cm.Data["greeting"] == want }

	patch := []byte(`{"data":{"greeting":"edited by hand"}}`)
	edited, err := cms.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		r.res.fail("drift: editing %s/%s: %v", ns, name, err)
		return
	}
	start := time.Now()
	if err := r.waitConfigMap(ctx, ns, name, edited.ResourceVersion, applied); err != nil {
		r.res.fail("drift: the edit of %s/%s was not reverted within %s: %v", ns, name, driftBound, err)
		return
	}
	res.EditSeconds = time.Since(start).Seconds()

	list, err := cms.List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		r.res.fail("drift: %v", err)
		return
	}
	if err := cms.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		r.res.fail("drift: deleting %s/%s: %v", ns, name, err)
		return
	}
	start = time.Now()
	if err := r.waitConfigMap(ctx, ns, name, list.ResourceVersion, applied); err != nil {
		r.res.fail("drift: the deletion of %s/%s was not reverted within %s: %v", ns, name, driftBound, err)
		return
	}
	res.DeleteSeconds = time.Since(start).Seconds()
	r.cfg.Logf("drift: an edit of %s/%s reverted after %.2f s, its deletion after %.2f s", ns, name, res.EditSeconds, res.DeleteSeconds)
}

// waitConfigMap watches ns/name from resourceVersion until ok holds for
// an added or modified object, for at most driftBound.
func (r *run) waitConfigMap(ctx context.Context, ns, name, resourceVersion string, ok func(*corev1.ConfigMap) bool) error {
	ctx, cancel := context.WithTimeout(ctx, driftBound)
	defer cancel()
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return r.kube.CoreV1().ConfigMaps(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return r.kube.CoreV1().ConfigMaps(ns).Watch(ctx, o)
		},
	}
	_, err := watchtools.Until(ctx, resourceVersion, lw, func(ev watch.Event) (bool, error) {
		switch ev.Type {
		case watch.Added, watch.Modified:
			cm, _ := ev.Object.(*corev1.ConfigMap)
			return ok(cm), nil
		case watch.Error:
			return false, fmt.Errorf("watch: %v", apierrors.FromObject(ev.Object))
		}
		return false, nil
	})
	return err
}
