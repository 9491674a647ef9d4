package ssa

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func secret(data map[string]any, annotations map[string]string) *unstructured.Unstructured {
	u := obj("v1", "Secret", "apps", "db")
	if data != nil {
		u.Object["data"] = data
	}
	if annotations != nil {
		u.SetAnnotations(annotations)
	}
	return u
}

func TestMaskSecret_MasksEveryValue(t *testing.T) {
	before := secret(map[string]any{"same": "c2FtZQ==", "changed": "b2xk", "removed": "Z29uZQ=="},
		map[string]string{lastApplied: `{"data":{"same":"c2FtZQ=="}}`, "team": "db"})
	after := secret(map[string]any{"same": "c2FtZQ==", "changed": "bmV3", "added": "YWRkZWQ="},
		map[string]string{lastApplied: `{"data":{"same":"c2FtZQ==","x":"eA=="}}`, "team": "db"})
	after.Object["stringData"] = map[string]any{"plain": "p4ss"}
	maskSecret(before, after)

	wantBefore := map[string]any{"same": maskSame, "changed": maskBefore, "removed": maskBefore}
	wantAfter := map[string]any{"same": maskSame, "changed": maskAfter, "added": maskAfter}
	for k, v := range wantBefore {
		if got := before.Object["data"].(map[string]any)[k]; got != v {
			t.Errorf("before data[%s] = %v, want %v", k, got, v)
		}
	}
	for k, v := range wantAfter {
		if got := after.Object["data"].(map[string]any)[k]; got != v {
			t.Errorf("after data[%s] = %v, want %v", k, got, v)
		}
	}
	if got := after.Object["stringData"].(map[string]any)["plain"]; got != maskAfter {
		t.Errorf("stringData = %v", got)
	}
	if got := before.GetAnnotations()[lastApplied]; got != maskBefore {
		t.Errorf("last-applied before = %q", got)
	}
	if got := after.GetAnnotations()[lastApplied]; got != maskAfter {
		t.Errorf("last-applied after = %q", got)
	}
	if before.GetAnnotations()["team"] != "db" {
		t.Error("other annotations must stay")
	}
}

func TestMaskSecret_RemovesUnmaskableData(t *testing.T) {
	u := secret(nil, nil)
	u.Object["data"] = "not-a-map-s3cr3t"
	maskSecret(u, nil)
	if _, ok := u.Object["data"]; ok {
		t.Errorf("data that cannot be masked must be dropped: %v", u.Object)
	}
}

func TestRenderDiff_ShowsChangedLinesAndNoSecrets(t *testing.T) {
	live := normalize(secret(map[string]any{"password": "b2xkLXBhc3N3b3Jk", "user": "YWRtaW4="}, nil))
	live.SetResourceVersion("42")
	live.SetUID("u-1")
	live.Object["status"] = map[string]any{"x": "y"}
	live = normalize(live)
	merged := normalize(secret(map[string]any{"password": "bmV3LXBhc3N3b3Jk", "user": "YWRtaW4="}, nil))
	maskSecret(live, merged)

	text, err := renderDiff("Secret/apps/db", live, merged)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- Secret/apps/db (live)", "+++ Secret/apps/db (after apply)", "-  password: '*** (before)'", "+  password: '*** (after)'", "   user: '***'"} {
		if !strings.Contains(text, want) {
			t.Errorf("diff does not contain %q:\n%s", want, text)
		}
	}
	for _, secretValue := range []string{"b2xkLXBhc3N3b3Jk", "bmV3LXBhc3N3b3Jk", "YWRtaW4=", "resourceVersion", "uid", "status"} {
		if strings.Contains(text, secretValue) {
			t.Errorf("diff contains %q:\n%s", secretValue, text)
		}
	}

	same, err := renderDiff("Secret/apps/db", merged, merged.DeepCopy())
	if err != nil || same != "" {
		t.Errorf("equal objects: diff %q, %v", same, err)
	}
}

func TestNormalize_DropsServerFields(t *testing.T) {
	u := obj("v1", "ConfigMap", "apps", "c")
	u.SetResourceVersion("1")
	u.SetGeneration(3)
	u.SetUID("x")
	u.SetManagedFields(nil)
	u.Object["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{"manager": "m"}}
	u.Object["metadata"].(map[string]any)["creationTimestamp"] = "2024-01-01T00:00:00Z"
	u.Object["status"] = map[string]any{"phase": "x"}
	n := normalize(u)
	md := n.Object["metadata"].(map[string]any)
	for _, f := range []string{"resourceVersion", "generation", "uid", "managedFields", "creationTimestamp"} {
		if _, ok := md[f]; ok {
			t.Errorf("metadata.%s kept", f)
		}
	}
	if _, ok := n.Object["status"]; ok {
		t.Error("status kept")
	}
	if u.GetResourceVersion() != "1" {
		t.Error("normalize modified its input")
	}
}
