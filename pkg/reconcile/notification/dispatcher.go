package notification

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// Bounds of the dispatcher.
const (
	// queueSize is how many events wait to be matched; past it events are
	// dropped and counted (gotk_notification_events_dropped_total).
	queueSize = 4096
	// dedupWindow: the same event for the same Alert is sent once per
	// window, as notification-controller rate-limits duplicates.
	dedupWindow = 5 * time.Minute
	// sendAttempts and firstBackoff: a failing Provider is tried again with
	// exponential backoff before the event is given up (and a Warning event
	// says why).
	sendAttempts = 4
	firstBackoff = time.Second
)

// Delivery is one event to send through one Alert's Provider.
type Delivery struct {
	// Alert and Provider are namespace/name, for logs, dedup and events.
	Alert, Provider string
	Event           notify.Event
	// Send posts the event.
	Send func(ctx context.Context, e notify.Event) error
	// Failed is told when every attempt failed (to emit a Warning event
	// on the Alert); err never carries secret values.
	Failed func(err error)
}

// Router matches an event against the Alerts and returns what to send.
type Router func(ctx context.Context, e notify.Event) []Delivery

// Dispatcher takes events from every worker (and the ingest endpoint),
// never blocking them: a bounded queue, a few senders, duplicates within
// dedupWindow dropped, retries with backoff.
type Dispatcher struct {
	routeMu sync.RWMutex
	route   Router
	queue   chan notify.Event
	now     func() time.Time
	backoff time.Duration

	mu   sync.Mutex
	seen map[string]time.Time
}

// SetRouter sets (or replaces, when the workers restart) the router.
func (d *Dispatcher) SetRouter(route Router) {
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	d.route = route
}

func (d *Dispatcher) router() Router {
	d.routeMu.RLock()
	defer d.routeMu.RUnlock()
	return d.route
}

// NewDispatcher returns a dispatcher that routes with route (nil until
// SetRouter: events are then dropped as undeliverable).
func NewDispatcher(route Router) *Dispatcher {
	return &Dispatcher{route: route, queue: make(chan notify.Event, queueSize), now: time.Now,
		backoff: firstBackoff, seen: map[string]time.Time{}}
}

var (
	metricsOnce   sync.Once
	droppedEvents *metrics.CounterVec
	sentEvents    *metrics.CounterVec
)

// registerMetrics registers the dispatcher's metrics once per process.
func registerMetrics() {
	metricsOnce.Do(func() {
		droppedEvents = metrics.NewCounterVec(&metrics.CounterOpts{
			Name: "gotk_notification_events_dropped_total", StabilityLevel: metrics.ALPHA,
			Help: "Events not sent, by why: queue_full, duplicate, failed.",
		}, []string{"reason"})
		sentEvents = metrics.NewCounterVec(&metrics.CounterOpts{
			Name: "gotk_notification_events_sent_total", StabilityLevel: metrics.ALPHA,
			Help: "Events sent to providers, by provider namespace/name.",
		}, []string{"provider"})
		legacyregistry.MustRegister(droppedEvents, sentEvents)
		// Every reason exists from the start (at zero), so alerts and
		// dashboards see a rate rather than no series.
		for _, reason := range []string{"queue_full", "duplicate", "failed"} {
			droppedEvents.WithLabelValues(reason).Add(0)
		}
	})
}

func dropped(reason string) {
	if droppedEvents != nil {
		droppedEvents.WithLabelValues(reason).Inc()
	}
}

// Dispatch queues e; it never blocks. A full queue drops e and counts it.
func (d *Dispatcher) Dispatch(e notify.Event) {
	select {
	case d.queue <- e:
	default:
		dropped("queue_full")
		klog.V(1).InfoS("Notification queue full; event dropped", "object", e.InvolvedObject.Kind+"/"+e.InvolvedObject.Namespace+"/"+e.InvolvedObject.Name, "reason", e.Reason)
	}
}

// Run sends queued events with workers senders until ctx is done.
func (d *Dispatcher) Run(ctx context.Context, workers int) {
	registerMetrics()
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case e := <-d.queue:
					route := d.router()
					if route == nil {
						continue
					}
					for _, dl := range route(ctx, e) {
						d.deliver(ctx, dl)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// deliver sends one delivery unless it is a duplicate, with retries.
func (d *Dispatcher) deliver(ctx context.Context, dl Delivery) {
	if d.duplicate(dl) {
		dropped("duplicate")
		return
	}
	var err error
	wait := d.backoff
	for attempt := 1; attempt <= sendAttempts; attempt++ {
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = dl.Send(sendCtx, dl.Event)
		cancel()
		if err == nil {
			if sentEvents != nil {
				sentEvents.WithLabelValues(dl.Provider).Inc()
			}
			return
		}
		if attempt == sendAttempts || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait *= 2
	}
	dropped("failed")
	if dl.Failed != nil {
		dl.Failed(err)
	}
}

// duplicate reports whether the same event went to the same Alert within
// dedupWindow, and remembers it otherwise.
func (d *Dispatcher) duplicate(dl Delivery) bool {
	e := dl.Event
	h := sha256.New()
	for _, s := range []string{dl.Alert, e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name,
		e.Severity, e.Reason, e.Message, e.Metadata["revision"]} {
		fmt.Fprintf(h, "%s\x00", s)
	}
	key := hex.EncodeToString(h.Sum(nil))
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[key]; ok && now.Sub(t) < dedupWindow {
		return true
	}
	if len(d.seen) > 10000 {
		for k, t := range d.seen {
			if now.Sub(t) >= dedupWindow {
				delete(d.seen, k)
			}
		}
	}
	d.seen[key] = now
	return false
}
