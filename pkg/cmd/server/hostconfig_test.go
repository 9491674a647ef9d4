package server

import (
	"testing"

	"k8s.io/client-go/rest"
)

// The workers' host clients send Events and read Secrets for every object:
// client-go's default of 5 requests per second made the Events of 1000
// Kustomizations trickle out for minutes.
func TestHostConfig_RateLimitFromFlags(t *testing.T) {
	o := NewOptions()
	fss := o.Flags()
	fs := fss.FlagSet("gitops")
	if err := fs.Parse([]string{"--kube-api-qps=75", "--kube-api-burst=150"}); err != nil {
		t.Fatal(err)
	}
	server := &rest.Config{Host: "https://127.0.0.1:6443"}
	got := o.hostConfig(server)
	if got.QPS != 75 || got.Burst != 150 {
		t.Errorf("QPS %v burst %d, want 75 and 150", got.QPS, got.Burst)
	}
	if server.QPS != 0 || server.Burst != 0 {
		t.Error("the server's own client configuration was changed")
	}
	if d := NewOptions(); d.KubeAPIQPS != 50 || d.KubeAPIBurst != 300 {
		t.Errorf("defaults %v/%d, want Flux's 50/300", d.KubeAPIQPS, d.KubeAPIBurst)
	}
}
