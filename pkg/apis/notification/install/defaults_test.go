package install

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
	v1 "github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1"
	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/notification/v1beta3"
)

// TestDefaults_MatchFluxCRDs checks that the scheme applies the defaults of
// Flux's CRDs.
func TestDefaults_MatchFluxCRDs(t *testing.T) {
	// Flux's CRD default is the text "10m"; a written value stays as written.
	tenMinutes, ninetySeconds := common.Duration("10m"), common.Duration("90s")
	scheme := runtime.NewScheme()
	Install(scheme)
	tests := []struct {
		name     string
		in, want runtime.Object
	}{
		{"Alert severity", &v1beta3.Alert{}, &v1beta3.Alert{Spec: v1beta3.AlertSpec{EventSeverity: "info"}}},
		{"Alert keeps error severity",
			&v1beta3.Alert{Spec: v1beta3.AlertSpec{EventSeverity: "error"}},
			&v1beta3.Alert{Spec: v1beta3.AlertSpec{EventSeverity: "error"}}},
		{"Provider has no defaults", &v1beta3.Provider{}, &v1beta3.Provider{}},
		{"Receiver interval and status",
			&v1.Receiver{},
			&v1.Receiver{
				Spec:   v1.ReceiverSpec{Interval: &tenMinutes},
				Status: v1.ReceiverStatus{ObservedGeneration: -1},
			}},
		{"Receiver keeps a written status",
			&v1.Receiver{Status: v1.ReceiverStatus{WebhookPath: "/hook/abc"}},
			&v1.Receiver{
				Spec:   v1.ReceiverSpec{Interval: &tenMinutes},
				Status: v1.ReceiverStatus{WebhookPath: "/hook/abc"},
			}},
		{"Receiver keeps a written interval as written",
			&v1.Receiver{Spec: v1.ReceiverSpec{Interval: &ninetySeconds}},
			&v1.Receiver{
				Spec:   v1.ReceiverSpec{Interval: &ninetySeconds},
				Status: v1.ReceiverStatus{ObservedGeneration: -1},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scheme.Default(tt.in)
			if diff := cmp.Diff(tt.want, tt.in); diff != "" {
				t.Errorf("defaults (-want +got):\n%s", diff)
			}
		})
	}
}
