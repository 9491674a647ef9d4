package registry

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// tableConvertor renders a kind like `flux get`: NAME, the kind's own
// columns, then AGE.
type tableConvertor struct {
	kind    *Kind
	columns []metav1.TableColumnDefinition
}

func newTableConvertor(k *Kind) *tableConvertor {
	cols := []metav1.TableColumnDefinition{{Name: "Name", Type: "string", Format: "name", Description: "Name of the object."}}
	for _, c := range k.Columns {
		cols = append(cols, metav1.TableColumnDefinition{Name: c.Name, Type: c.Type, Description: c.Description, Priority: c.Priority})
	}
	cols = append(cols, metav1.TableColumnDefinition{Name: "Age", Type: "date", Description: "Time since the object was created."})
	return &tableConvertor{kind: k, columns: cols}
}

func (t *tableConvertor) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{ColumnDefinitions: t.columns}
	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	var err error
	if meta.IsListType(obj) {
		err = meta.EachListItem(obj, func(item runtime.Object) error {
			table.Rows = append(table.Rows, t.row(item))
			return nil
		})
	} else {
		table.Rows = append(table.Rows, t.row(obj))
	}
	return table, err
}

func (t *tableConvertor) row(obj runtime.Object) metav1.TableRow {
	m, _ := meta.Accessor(obj)
	cells := make([]interface{}, 0, len(t.columns))
	cells = append(cells, m.GetName())
	for _, c := range t.kind.Columns {
		cells = append(cells, c.Cell(obj))
	}
	cells = append(cells, translateTimestampSince(m.GetCreationTimestamp()))
	return metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: obj}}
}

func translateTimestampSince(ts metav1.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(metav1.Now().Sub(ts.Time))
}

// Shared cells for Flux kinds: every one has status.conditions and most have
// spec.suspend.

// ReadyColumn shows the Ready condition's status ("True", "False", "Unknown").
func ReadyColumn() Column {
	return Column{Name: "Ready", Type: "string", Description: "Status of the Ready condition.", Cell: func(obj runtime.Object) interface{} {
		if c := readyCondition(obj); c != nil {
			return string(c.Status)
		}
		return "Unknown"
	}}
}

// MessageColumn shows the Ready condition's message.
func MessageColumn() Column {
	return Column{Name: "Message", Type: "string", Description: "Message of the Ready condition.", Cell: func(obj runtime.Object) interface{} {
		if c := readyCondition(obj); c != nil {
			return c.Message
		}
		return ""
	}}
}

// SuspendedColumn shows spec.suspend.
func SuspendedColumn() Column {
	return Column{Name: "Suspended", Type: "boolean", Description: "Whether reconciliation is suspended.", Cell: func(obj runtime.Object) interface{} {
		v := structField(obj, "Spec").FieldByName("Suspend")
		return v.IsValid() && v.Kind() == reflect.Bool && v.Bool()
	}}
}

// StringColumn is a column computed by f.
func StringColumn(name, description string, priority int32, f func(obj runtime.Object) string) Column {
	return Column{Name: name, Type: "string", Description: description, Priority: priority, Cell: func(obj runtime.Object) interface{} { return f(obj) }}
}

// StaticReadyColumns are READY and MESSAGE of a kind without status (Alert
// and Provider in v1beta3): always True and "<kind> is Ready", which is
// what `flux get alerts` and `flux get alert-providers` print for them.
func StaticReadyColumns(kind string) []Column {
	return []Column{
		{Name: "Ready", Type: "string", Description: "Always True: the kind has no status; delivery failures are reported as events.",
			Cell: func(runtime.Object) interface{} { return string(metav1.ConditionTrue) }},
		{Name: "Message", Type: "string", Description: "Always \"" + kind + " is Ready\", as flux get prints it.",
			Cell: func(runtime.Object) interface{} { return kind + " is Ready" }},
	}
}

// Wide returns c shown only with -o wide.
func Wide(c Column) Column {
	c.Priority = 1
	return c
}

// StatusColumns are the columns every reconcilable kind ends with.
func StatusColumns() []Column {
	return []Column{SuspendedColumn(), ReadyColumn(), MessageColumn()}
}

func readyCondition(obj runtime.Object) *metav1.Condition {
	status := structField(obj, "Status")
	if !status.IsValid() {
		return nil
	}
	v := status.FieldByName("Conditions")
	if !v.IsValid() {
		return nil
	}
	conds, ok := v.Interface().([]metav1.Condition)
	if !ok {
		return nil
	}
	return meta.FindStatusCondition(conds, "Ready")
}
