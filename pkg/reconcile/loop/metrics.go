package loop

import (
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Metrics are Flux's reconciliation metrics, served on /metrics: per object
// (kind, name, namespace, as Flux labels them) and per controller
// (controller-runtime's names, which Flux's dashboards query, with the
// controller named by its lowercase kind as controller-runtime does).
type Metrics struct {
	duration  *metrics.HistogramVec
	condition *metrics.GaugeVec
	suspend   *metrics.GaugeVec
	results   *metrics.CounterVec
	outcomes  *metrics.CounterVec
	errors    *metrics.CounterVec
	active    *metrics.GaugeVec
	workers   *metrics.GaugeVec
}

// Result label values of controller_runtime_reconcile_total, as
// controller-runtime reports them: error (Failed or Stalled), requeue_after
// (a next run is scheduled) or success (it is not).
const (
	resultError        = "error"
	resultRequeueAfter = "requeue_after"
	resultSuccess      = "success"
)

var runtimeResults = []string{resultError, resultRequeueAfter, resultSuccess}

// outcomeNames label gotk_reconcile_total by the typed outcome of a run.
var outcomeNames = map[Outcome]string{
	Succeeded:  "succeeded",
	Failed:     "failed",
	Stalled:    "stalled",
	Waited:     "waiting",
	InProgress: "progressing",
}

// NewMetrics registers the metrics with the server's registry. Call it
// once per process.
func NewMetrics() *Metrics {
	m := newMetrics()
	legacyregistry.MustRegister(m.collectors()...)
	return m
}

func (m *Metrics) collectors() []metrics.Registerable {
	return []metrics.Registerable{m.duration, m.condition, m.suspend, m.outcomes, m.results, m.errors, m.active, m.workers}
}

// newMetrics returns the metrics unregistered (they record nothing until
// registered with a registry).
func newMetrics() *Metrics {
	return &Metrics{
		duration: metrics.NewHistogramVec(&metrics.HistogramOpts{
			Name:           "gotk_reconcile_duration_seconds",
			Help:           "How long reconciliations take, by object.",
			Buckets:        []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
			StabilityLevel: metrics.ALPHA,
		}, []string{"kind", "name", "namespace"}),
		condition: metrics.NewGaugeVec(&metrics.GaugeOpts{
			Name:           "gotk_reconcile_condition",
			Help:           "Condition status of each object: 1 for the current status, 0 for the others.",
			StabilityLevel: metrics.ALPHA,
		}, []string{"kind", "name", "namespace", "type", "status"}),
		suspend: metrics.NewGaugeVec(&metrics.GaugeOpts{
			Name:           "gotk_suspend_status",
			Help:           "Whether an object's reconciliation is suspended (spec.suspend): 1 or 0.",
			StabilityLevel: metrics.ALPHA,
		}, []string{"kind", "name", "namespace"}),
		outcomes: metrics.NewCounterVec(&metrics.CounterOpts{
			Name:           "gotk_reconcile_total",
			Help:           "Reconciliations by kind and typed outcome: succeeded, failed, stalled, waiting or progressing.",
			StabilityLevel: metrics.ALPHA,
		}, []string{"kind", "result"}),
		results: metrics.NewCounterVec(&metrics.CounterOpts{
			Name:           "controller_runtime_reconcile_total",
			Help:           "Reconciliations per controller by result: error, requeue_after or success.",
			StabilityLevel: metrics.ALPHA,
		}, []string{"controller", "result"}),
		errors: metrics.NewCounterVec(&metrics.CounterOpts{
			Name:           "controller_runtime_reconcile_errors_total",
			Help:           "Reconciliations per controller that failed or stalled.",
			StabilityLevel: metrics.ALPHA,
		}, []string{"controller"}),
		active: metrics.NewGaugeVec(&metrics.GaugeOpts{
			Name:           "controller_runtime_active_workers",
			Help:           "Workers of a controller reconciling an object now.",
			StabilityLevel: metrics.ALPHA,
		}, []string{"controller"}),
		workers: metrics.NewGaugeVec(&metrics.GaugeOpts{
			Name:           "controller_runtime_max_concurrent_reconciles",
			Help:           "Workers of a controller (--concurrent).",
			StabilityLevel: metrics.ALPHA,
		}, []string{"controller"}),
	}
}

// controllerName is how controller-runtime names a kind's controller, and
// so the controller label and the work queue's name.
func controllerName(kind string) string { return strings.ToLower(kind) }

// start makes a controller's series exist (at zero) from the start, as
// controller-runtime does, so dashboards and alerts see every controller.
func (m *Metrics) start(kind string, workers int) {
	if m == nil {
		return
	}
	name := controllerName(kind)
	m.workers.WithLabelValues(name).Set(float64(workers))
	m.active.WithLabelValues(name).Set(0)
	m.errors.WithLabelValues(name).Add(0)
	for _, r := range runtimeResults {
		m.results.WithLabelValues(name, r).Add(0)
	}
	for _, o := range outcomeNames {
		m.outcomes.WithLabelValues(kind, o).Add(0)
	}
}

// busy counts a worker in (+1) or out (-1) of a reconciliation.
func (m *Metrics) busy(kind string, delta float64) {
	if m == nil {
		return
	}
	m.active.WithLabelValues(controllerName(kind)).Add(delta)
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// observe records one run of obj: its duration, conditions and suspension,
// and the run's outcome; requeued says whether a next run is scheduled.
func (m *Metrics) observe(kind string, obj runtime.Object, d time.Duration, outcome Outcome, requeued bool) {
	if m == nil {
		return
	}
	name := controllerName(kind)
	result := resultSuccess
	switch {
	case outcome == Failed || outcome == Stalled:
		result = resultError
		m.errors.WithLabelValues(name).Inc()
	case requeued:
		result = resultRequeueAfter
	}
	m.results.WithLabelValues(name, result).Inc()
	m.outcomes.WithLabelValues(kind, outcomeNames[outcome]).Inc()

	o, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	m.duration.WithLabelValues(kind, o.GetName(), o.GetNamespace()).Observe(d.Seconds())
	suspended := 0.0
	if suspendedOf(obj) {
		suspended = 1
	}
	m.suspend.WithLabelValues(kind, o.GetName(), o.GetNamespace()).Set(suspended)
	for _, c := range conditionsOf(obj) {
		if c.Type != "Ready" && c.Type != "Stalled" && c.Type != "Reconciling" {
			continue
		}
		for _, s := range conditionStatuses {
			v := 0.0
			if c.Status == s {
				v = 1
			}
			m.condition.WithLabelValues(kind, o.GetName(), o.GetNamespace(), c.Type, string(s)).Set(v)
		}
	}
}

// forget drops an object's series (it was deleted).
func (m *Metrics) forget(kind, namespace, name string) {
	if m == nil {
		return
	}
	m.duration.DeleteLabelValues(kind, name, namespace)
	m.suspend.DeleteLabelValues(kind, name, namespace)
	for _, t := range []string{"Ready", "Stalled", "Reconciling"} {
		for _, s := range conditionStatuses {
			m.condition.DeleteLabelValues(kind, name, namespace, t, string(s))
		}
	}
}

// stop drops every object series of a kind when its controller stops (the
// Lease went to another replica, which reports them from now on), so two
// replicas never report one object.
func (m *Metrics) stop(kind string) {
	if m == nil || !m.condition.IsCreated() {
		return
	}
	byKind := map[string]string{"kind": kind}
	m.duration.DeletePartialMatch(byKind)
	m.suspend.DeletePartialMatch(byKind)
	m.condition.DeletePartialMatch(byKind)
	m.active.WithLabelValues(controllerName(kind)).Set(0)
}

func conditionsOf(obj runtime.Object) []metav1.Condition {
	s := reflect.ValueOf(obj).Elem().FieldByName("Status")
	if !s.IsValid() {
		return nil
	}
	c := s.FieldByName("Conditions")
	if !c.IsValid() {
		return nil
	}
	conds, _ := c.Interface().([]metav1.Condition)
	return conds
}

func suspendedOf(obj runtime.Object) bool {
	s := reflect.ValueOf(obj).Elem().FieldByName("Spec")
	if !s.IsValid() || s.Kind() != reflect.Struct {
		return false
	}
	v := s.FieldByName("Suspend")
	return v.IsValid() && v.Kind() == reflect.Bool && v.Bool()
}
