package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// waitForObject reads resource/name until cond is true, for at most timeout.
// It polls kube-apiserver every 250ms (bounded): simpler than a watch for
// conditions on nested status, and the loop ends either way.
func waitForObject(t *testing.T, resource, namespace, name string, timeout time.Duration, what string, cond func(obj map[string]interface{}) bool) map[string]interface{} {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last map[string]interface{}
	for {
		out, err := cp.Kubectl(ctx, "get", resource, name, "-n", namespace, "-o", "json")
		if err == nil {
			last = nil
			if json.Unmarshal(out, &last) == nil && cond(last) {
				return last
			}
		}
		select {
		case <-ctx.Done():
			status, _ := json.MarshalIndent(last["status"], "", "  ")
			t.Fatalf("%s/%s: %s not reached within %s; status:\n%s", resource, name, what, timeout, status)
		case <-tick.C:
		}
	}
}

// condition returns the status and reason of condition type t.
func condition(obj map[string]interface{}, t string) (status, reason, message string) {
	st, _ := obj["status"].(map[string]interface{})
	conds, _ := st["conditions"].([]interface{})
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		if m["type"] == t {
			return fmt.Sprint(m["status"]), fmt.Sprint(m["reason"]), fmt.Sprint(m["message"])
		}
	}
	return "", "", ""
}

// nested reads a string at a path of keys.
func nested(obj map[string]interface{}, keys ...string) string {
	var cur interface{} = obj
	for _, k := range keys {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return ""
		}
		cur = m[k]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

// readyAt waits until Ready=True for the current generation.
func readyAt(obj map[string]interface{}) bool {
	s, _, _ := condition(obj, "Ready")
	return s == "True" && nested(obj, "status", "observedGeneration") == nested(obj, "metadata", "generation")
}

// waitFor polls cond every 250ms until it is true, for at most timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
