package ssa

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// waitItem is one object being waited for.
type waitItem struct {
	id              string            // inventory ID
	mp              *meta.RESTMapping // nil: the kind is not served
	namespace, name string
	subject         string
	// status is the last observed kstatus ("Current", "InProgress",
	// "NotFound", ...) and message says why, for the timeout error.
	status  status.Status
	message string
	// assess, when set, computes the status of the objects it knows in
	// place of kstatus.
	assess StatusFunc
}

// StatusFunc computes the status of an object in place of kstatus (a
// Kustomization's healthCheckExprs); ok is false for an object it does not
// know, which kstatus assesses.
type StatusFunc func(u *unstructured.Unstructured) (st status.Status, message string, ok bool)

// checkFunc observes item once and reports whether the wait for it is over.
// A non-nil error ends the whole wait at once.
type checkFunc func(ctx context.Context, item *waitItem) (bool, error)

// WaitForReady polls the objects' kstatus every interval until all are
// Current, for at most timeout (or until ctx ends). On timeout the error
// lists each object that is not ready with its status, e.g.
// "timeout waiting for: [Deployment/apps/web status: 'InProgress']". Missing
// objects are 'NotFound'.
func (m *Manager) WaitForReady(ctx context.Context, refs []Ref, interval, timeout time.Duration) error {
	items, err := m.waitItems(ctx, refs)
	if err != nil {
		return err
	}
	return m.pollItems(ctx, items, interval, timeout, m.readyCheck)
}

// Readiness is what one look at a set of objects found.
type Readiness struct {
	// Ready is true when every object is Current.
	Ready bool
	// Failed lists the objects whose kstatus is Failed (e.g. a Deployment
	// past its progress deadline), with kstatus's message.
	Failed []string
	// Pending lists the objects not ready yet with their status, in the
	// form of WaitForReady's timeout error.
	Pending []string
}

// CheckReady reads every object once and reports their kstatus, or what
// assess says of the objects it knows (nil: kstatus for all). Unlike
// WaitForReady it never blocks past the reads, so a caller can look again
// later without holding anything in between.
func (m *Manager) CheckReady(ctx context.Context, refs []Ref, assess StatusFunc) (Readiness, error) {
	items, err := m.waitItems(ctx, refs)
	if err != nil {
		return Readiness{}, err
	}
	for _, it := range items {
		it.assess = assess
	}
	forEach(ctx, len(items), func() bool { return false }, func(i int) { m.observe(ctx, items[i]) })
	if err := ctx.Err(); err != nil {
		return Readiness{}, err
	}
	var out Readiness
	for _, it := range items {
		switch it.status {
		case status.CurrentStatus:
		case status.FailedStatus:
			out.Failed = append(out.Failed, fmt.Sprintf("%s status: '%s': %s", it.subject, it.status, it.message))
		default:
			out.Pending = append(out.Pending, pendingString(it))
		}
	}
	out.Ready = len(out.Failed) == 0 && len(out.Pending) == 0
	return out, nil
}

// WaitForTermination polls every interval until the objects no longer
// exist, for at most timeout (or until ctx ends).
func (m *Manager) WaitForTermination(ctx context.Context, refs []Ref, interval, timeout time.Duration) error {
	items, err := m.waitItems(ctx, refs)
	if err != nil {
		return err
	}
	if err := m.pollItems(ctx, items, interval, timeout, m.goneCheck); err != nil {
		return fmt.Errorf("waiting for termination: %w", err)
	}
	return nil
}

func (m *Manager) waitItems(ctx context.Context, refs []Ref) ([]*waitItem, error) {
	items := make([]*waitItem, 0, len(refs))
	for _, r := range refs {
		id, gvk, err := ParseRef(r)
		if err != nil {
			return nil, err
		}
		item := &waitItem{id: r.ID, namespace: id.Namespace, name: id.Name, subject: subject(gvk.Kind, id.Namespace, id.Name)}
		mp, err := m.mapping(ctx, gvk)
		switch {
		case isNotServed(err):
			// Nothing of an unserved kind exists; mp stays nil.
		case err != nil:
			return nil, fmt.Errorf("%s: %w", item.subject, err)
		default:
			item.mp = mp
		}
		items = append(items, item)
	}
	return items, nil
}

// observe reads item and records its kstatus; nil when it does not exist.
// Read errors are recorded as status Unknown and waited through.
func (m *Manager) observe(ctx context.Context, item *waitItem) *unstructured.Unstructured {
	if item.mp == nil {
		item.status, item.message = status.NotFoundStatus, ""
		return nil
	}
	u, err := m.get(ctx, item.mp, item.namespace, item.name)
	switch {
	case err != nil:
		item.status, item.message = status.UnknownStatus, err.Error()
		if item.mp.GroupVersionKind.GroupKind() == secretKind {
			item.message = redact(err)
		}
	case u == nil:
		item.status, item.message = status.NotFoundStatus, ""
	default:
		record(item, u)
		m.refresh(item.id, u)
	}
	return u
}

// record sets item's status from the object u.
func record(item *waitItem, u *unstructured.Unstructured) {
	if item.assess != nil {
		if st, msg, ok := item.assess(u); ok {
			item.status, item.message = st, msg
			return
		}
	}
	res, err := status.Compute(u)
	if err != nil {
		item.status, item.message = status.UnknownStatus, err.Error()
		return
	}
	item.status, item.message = res.Status, res.Message
}

func (m *Manager) readyCheck(ctx context.Context, item *waitItem) (bool, error) {
	m.observe(ctx, item)
	return item.status == status.CurrentStatus, nil
}

func (m *Manager) goneCheck(ctx context.Context, item *waitItem) (bool, error) {
	m.observe(ctx, item)
	return item.status == status.NotFoundStatus, nil
}

// pollItems runs check on every pending item, then every interval on those
// not done yet, for at most timeout.
func (m *Manager) pollItems(ctx context.Context, items []*waitItem, interval, timeout time.Duration, check checkFunc) error {
	if interval <= 0 {
		interval = time.Second
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pending := items
	timer := time.NewTimer(0)
	defer timer.Stop()
	for len(pending) > 0 {
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return timeoutError(pending)
		case <-timer.C:
		}
		done := make([]bool, len(pending))
		var mu sync.Mutex
		var fatal error
		forEach(waitCtx, len(pending), func() bool { return false }, func(i int) {
			ok, err := check(waitCtx, pending[i])
			mu.Lock()
			defer mu.Unlock()
			done[i] = ok
			if err != nil && fatal == nil {
				fatal = err
			}
		})
		if fatal != nil {
			return fatal
		}
		next := pending[:0:0]
		for i, it := range pending {
			if !done[i] {
				next = append(next, it)
			}
		}
		pending = next
		timer.Reset(interval)
	}
	return nil
}

func timeoutError(pending []*waitItem) error {
	parts := make([]string, len(pending))
	for i, it := range pending {
		parts[i] = pendingString(it)
	}
	return fmt.Errorf("timeout waiting for: [%s]", strings.Join(parts, ", "))
}

// pendingString describes an object not ready, e.g.
// "Deployment/apps/web status: 'InProgress'"; an Unknown status comes with
// why (a read or expression error), which is what the user must fix.
func pendingString(it *waitItem) string {
	st := it.status
	if st == "" {
		st = status.UnknownStatus
	}
	if st == status.UnknownStatus && it.message != "" {
		return fmt.Sprintf("%s status: '%s': %s", it.subject, st, it.message)
	}
	return fmt.Sprintf("%s status: '%s'", it.subject, st)
}

// settleDefinitions waits after the first stage until the applied CRDs are
// Established and Namespaces Active, judged first from the apply responses
// (no request when they already are), and, if a CRD was created or changed,
// until the REST mapper knows its kind.
func (m *Manager) settleDefinitions(ctx context.Context, results []applied, opts ApplyOptions) error {
	var pending []*waitItem
	var newKinds []schema.GroupVersionKind
	for _, r := range results {
		if r.live == nil || !waitedFor(r.live.GroupVersionKind().GroupKind()) {
			continue
		}
		item := &waitItem{id: r.change.ID, name: r.live.GetName(), namespace: r.live.GetNamespace(), subject: r.change.Subject}
		record(item, r.live)
		if item.status == status.FailedStatus {
			return fmt.Errorf("%s is not ready: %s", item.subject, item.message)
		}
		if item.status != status.CurrentStatus {
			gvk := r.live.GroupVersionKind()
			mp, err := m.mapping(ctx, gvk)
			if err != nil {
				return fmt.Errorf("%s: %w", item.subject, err)
			}
			item.mp = mp
			pending = append(pending, item)
		}
		if r.live.GroupVersionKind().GroupKind() == crdKind &&
			(r.change.Action == ActionCreated || r.change.Action == ActionConfigured) {
			newKinds = append(newKinds, servedKinds(r.live)...)
		}
	}
	if len(pending) > 0 {
		err := m.pollItems(ctx, pending, opts.WaitInterval, opts.WaitTimeout, func(ctx context.Context, item *waitItem) (bool, error) {
			m.observe(ctx, item)
			if item.status == status.FailedStatus {
				return false, fmt.Errorf("%s is not ready: %s", item.subject, item.message)
			}
			return item.status == status.CurrentStatus, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for CustomResourceDefinitions and Namespaces: %w", err)
		}
	}
	if len(newKinds) == 0 {
		return nil
	}
	m.resetMapper()
	return m.waitServed(ctx, newKinds, opts)
}

// waitServed waits until discovery lists every kind, which can trail the
// Established condition briefly.
func (m *Manager) waitServed(ctx context.Context, kinds []schema.GroupVersionKind, opts ApplyOptions) error {
	waitCtx, cancel := context.WithTimeout(ctx, opts.WaitTimeout)
	defer cancel()
	for {
		var missing []string
		for _, gvk := range kinds {
			if _, err := m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
				missing = append(missing, gvk.Kind+" in "+gvk.GroupVersion().String())
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("timeout waiting for the API server to serve: [%s]", strings.Join(missing, ", "))
		case <-time.After(opts.WaitInterval):
		}
		m.resetMapper()
	}
}

// servedKinds lists the kinds a CRD serves.
func servedKinds(crd *unstructured.Unstructured) []schema.GroupVersionKind {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var out []schema.GroupVersionKind
	for _, v := range versions {
		vm, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := vm["name"].(string)
		if served, _ := vm["served"].(bool); served && name != "" {
			out = append(out, schema.GroupVersionKind{Group: group, Version: name, Kind: kind})
		}
	}
	return out
}
