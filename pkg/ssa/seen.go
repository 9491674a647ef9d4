package ssa

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// seenEntry is what the Manager last saw of an object.
type seenEntry struct {
	resourceVersion string
	// reread: the object must be read before the next apply, because the
	// in-cluster object carried reconcile: disabled or ssa: Ignore, or
	// (override) kubectl's managers own fields to take over.
	reread bool
	// override: the last apply used the Override policy.
	override bool
	// content identifies what the object said (contentHash).
	content [sha256.Size]byte
	// sent identifies the manifest last applied successfully (bodyHash);
	// zero when none was.
	sent [sha256.Size]byte
}

// seenCache maps inventory IDs to what the Manager last saw.
type seenCache struct {
	mu sync.RWMutex
	m  map[string]seenEntry
}

func (c *seenCache) get(id string) (seenEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[id]
	return e, ok
}

func (c *seenCache) put(id string, e seenEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = e
}

// update changes the entry of id, if there is one, with fn.
func (c *seenCache) update(id string, fn func(*seenEntry)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		fn(&e)
		c.m[id] = e
	}
}

func (c *seenCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// remember records live as last seen right after applying (or reading) it,
// and returns what it recorded.
func (m *Manager) remember(id string, live *unstructured.Unstructured, override bool) seenEntry {
	e := seenEntry{
		resourceVersion: live.GetResourceVersion(),
		reread:          m.mustReread(live, override),
		override:        override,
		content:         contentHash(live),
	}
	m.seen.put(id, e)
	return e
}

// refresh records an object read for another purpose (health checks,
// waits, diffs), so that status updates by controllers after an apply do
// not cost the next apply a conflict and a read. Only objects this Manager
// applied are tracked.
func (m *Manager) refresh(id string, live *unstructured.Unstructured) {
	m.seen.update(id, func(e *seenEntry) {
		e.resourceVersion = live.GetResourceVersion()
		e.reread = m.mustReread(live, e.override)
		e.content = contentHash(live)
	})
}

// mustReread reports whether the next apply of live must read it first.
func (m *Manager) mustReread(live *unstructured.Unstructured, override bool) bool {
	if m.keys.liveExcluded(live) {
		return true
	}
	if override {
		for _, e := range live.GetManagedFields() {
			if kubectlManager(e.Manager) {
				return true
			}
		}
	}
	return false
}

// acceptedBefore reports whether the Manager applied exactly this manifest
// of id successfully before, so the server accepted it.
func (m *Manager) acceptedBefore(id string, body *unstructured.Unstructured) bool {
	e, ok := m.seen.get(id)
	return ok && e.sent != [sha256.Size]byte{} && e.sent == bodyHash(body)
}

// accepted records that body was applied successfully as id.
func (m *Manager) accepted(id string, body *unstructured.Unstructured) {
	h := bodyHash(body)
	m.seen.update(id, func(e *seenEntry) { e.sent = h })
}

// bodyHash identifies a manifest as sent, every field included but the
// resourceVersion precondition.
func bodyHash(u *unstructured.Unstructured) [sha256.Size]byte {
	obj := u.Object
	if md, ok := obj["metadata"].(map[string]any); ok {
		if _, has := md["resourceVersion"]; has {
			obj = maps.Clone(obj)
			md = maps.Clone(md)
			delete(md, "resourceVersion")
			obj["metadata"] = md
		}
	}
	b, _ := json.Marshal(obj) // maps marshal with sorted keys
	return sha256.Sum256(b)
}

// contentHash identifies what an object says, leaving out what the server
// rewrites by itself: managedFields, resourceVersion, generation and status.
func contentHash(u *unstructured.Unstructured) [sha256.Size]byte {
	obj := make(map[string]any, len(u.Object))
	for k, v := range u.Object {
		obj[k] = v
	}
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			m[k] = v
		}
		delete(m, "managedFields")
		delete(m, "resourceVersion")
		delete(m, "generation")
		obj["metadata"] = m
	}
	b, _ := json.Marshal(obj) // maps marshal with sorted keys
	return sha256.Sum256(b)
}
