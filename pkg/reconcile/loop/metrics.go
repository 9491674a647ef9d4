package loop

import (
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Metrics are Flux's reconciliation metrics, served on /metrics.
type Metrics struct {
	duration  *metrics.HistogramVec
	condition *metrics.GaugeVec
}

// NewMetrics registers the metrics with the server's registry.
func NewMetrics() *Metrics {
	m := &Metrics{
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
	}
	legacyregistry.MustRegister(m.duration, m.condition)
	return m
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

func (m *Metrics) observe(kind string, obj runtime.Object, d time.Duration) {
	if m == nil {
		return
	}
	o, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	m.duration.WithLabelValues(kind, o.GetName(), o.GetNamespace()).Observe(d.Seconds())
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

func (m *Metrics) forget(kind, namespace, name string) {
	if m == nil {
		return
	}
	m.duration.DeleteLabelValues(kind, name, namespace)
	for _, t := range []string{"Ready", "Stalled", "Reconciling"} {
		for _, s := range conditionStatuses {
			m.condition.DeleteLabelValues(kind, name, namespace, t, string(s))
		}
	}
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
