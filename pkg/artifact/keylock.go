package artifact

import "sync"

// keyLocks hands out one mutex per key, and forgets it when nobody holds or
// waits for it, so the map does not grow with every object ever stored.
type keyLocks struct {
	mu sync.Mutex
	m  map[Key]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int // holders plus waiters; guarded by keyLocks.mu
}

// lock locks k and returns the function that unlocks it.
func (l *keyLocks) lock(k Key) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[Key]*refMutex{}
	}
	m := l.m[k]
	if m == nil {
		m = &refMutex{}
		l.m[k] = m
	}
	m.refs++
	l.mu.Unlock()

	m.Lock()
	return func() {
		m.Unlock()
		l.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(l.m, k)
		}
		l.mu.Unlock()
	}
}
