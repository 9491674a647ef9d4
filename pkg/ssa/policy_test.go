package ssa

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const group = "kustomize.toolkit.fluxcd.io"

// annotated returns a ConfigMap with annotations and labels.
func annotated(annotations, labels map[string]string) *unstructured.Unstructured {
	u := obj("v1", "ConfigMap", "apps", "cm")
	u.SetAnnotations(annotations)
	u.SetLabels(labels)
	return u
}

func TestDesiredPolicy_ReadsSSAAndReconcileAnnotations(t *testing.T) {
	k := keysFor(group)
	tests := []struct {
		name        string
		annotations map[string]string
		labels      map[string]string
		want        applyPolicy
	}{
		{name: "none", want: policyOverride},
		{name: "Override", annotations: map[string]string{group + "/ssa": "Override"}, want: policyOverride},
		{name: "Merge", annotations: map[string]string{group + "/ssa": "Merge"}, want: policyMerge},
		{name: "merge lower case", annotations: map[string]string{group + "/ssa": "merge"}, want: policyMerge},
		{name: "IfNotPresent", annotations: map[string]string{group + "/ssa": "IfNotPresent"}, want: policyIfNotPresent},
		{name: "Ignore", annotations: map[string]string{group + "/ssa": "Ignore"}, want: policyIgnore},
		{name: "unknown value", annotations: map[string]string{group + "/ssa": "Sometimes"}, want: policyOverride},
		{name: "reconcile disabled", annotations: map[string]string{group + "/reconcile": "disabled"}, want: policyIgnore},
		{name: "reconcile Disabled label", labels: map[string]string{group + "/reconcile": "Disabled"}, want: policyIgnore},
		{name: "reconcile enabled", annotations: map[string]string{group + "/reconcile": "enabled"}, want: policyOverride},
		{name: "other group", annotations: map[string]string{"helm.toolkit.fluxcd.io/ssa": "Ignore"}, want: policyOverride},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.desiredPolicy(annotated(tt.annotations, tt.labels)); got != tt.want {
				t.Errorf("desiredPolicy = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestForceEnabled_AcceptsEnabledInAnyCase(t *testing.T) {
	k := keysFor(group)
	for v, want := range map[string]bool{"enabled": true, "Enabled": true, "disabled": false, "": false, "true": false} {
		if got := k.forceEnabled(annotated(map[string]string{group + "/force": v}, nil)); got != want {
			t.Errorf("force %q = %v, want %v", v, got, want)
		}
	}
}

func TestLiveAndPruneExclusions(t *testing.T) {
	k := keysFor(group)
	tests := []struct {
		name                  string
		annotations, labels   map[string]string
		wantLive, wantNoPrune bool
	}{
		{name: "plain"},
		{name: "reconcile disabled annotation", annotations: map[string]string{group + "/reconcile": "disabled"}, wantLive: true, wantNoPrune: true},
		{name: "reconcile disabled label", labels: map[string]string{group + "/reconcile": "disabled"}, wantLive: true, wantNoPrune: true},
		{name: "ssa Ignore", annotations: map[string]string{group + "/ssa": "Ignore"}, wantLive: true, wantNoPrune: true},
		{name: "prune disabled", annotations: map[string]string{group + "/prune": "disabled"}, wantNoPrune: true},
		{name: "prune Disabled", annotations: map[string]string{group + "/prune": "Disabled"}, wantNoPrune: true},
		{name: "ssa IfNotPresent", annotations: map[string]string{group + "/ssa": "IfNotPresent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := annotated(tt.annotations, tt.labels)
			if got := k.liveExcluded(u); got != tt.wantLive {
				t.Errorf("liveExcluded = %v, want %v", got, tt.wantLive)
			}
			if got := k.pruneExcluded(u); got != tt.wantNoPrune {
				t.Errorf("pruneExcluded = %v, want %v", got, tt.wantNoPrune)
			}
		})
	}
}

func TestHasLabels_RequiresEveryOwnerLabel(t *testing.T) {
	owner := map[string]string{group + "/name": "apps", group + "/namespace": "flux-system"}
	tests := []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{name: "both", labels: map[string]string{group + "/name": "apps", group + "/namespace": "flux-system", "x": "y"}, want: true},
		{name: "one missing", labels: map[string]string{group + "/name": "apps"}},
		{name: "other owner", labels: map[string]string{group + "/name": "infra", group + "/namespace": "flux-system"}},
		{name: "none"},
	}
	for _, tt := range tests {
		if got := hasLabels(annotated(nil, tt.labels), owner); got != tt.want {
			t.Errorf("%s: hasLabels = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !hasLabels(annotated(nil, nil), nil) {
		t.Error("no required labels must match anything")
	}
}
