package notify_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

func TestNew_NamesWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		o    notify.Options
		want string
	}{
		{notify.Options{Type: "slack"}, "address is required"},
		{notify.Options{Type: "generic", Address: "ftp://host/x"}, "scheme must be http or https"},
		{notify.Options{Type: "github", Address: "https://github.com/org/repo"}, "token"},
		{notify.Options{Type: "github", Address: "https://github.com/org", Token: "t"}, "<owner>/<repository>"},
		{notify.Options{Type: "telegram", Token: "t"}, "channel"},
		{notify.Options{Type: "matrix", Address: "https://matrix.org", Channel: "!r:m"}, "token"},
		{notify.Options{Type: "pagerduty"}, "routing key"},
		{notify.Options{Type: "nats", Address: "nats://127.0.0.1:4222"}, "subject"},
		{notify.Options{Type: "azuredevops", Address: "https://dev.azure.com/org/repo", Token: "t"}, "_git"},
		{notify.Options{Type: "sentry", Address: "https://sentry.io/1"}, "public key"},
		{notify.Options{Type: "no-such-type"}, "unknown provider type"},
	} {
		_, err := notify.New(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.o.Type, err, tc.want)
		}
	}
}

func TestNew_RefusesTypesNeedingCloudCredentials(t *testing.T) {
	for _, typ := range []string{"googlepubsub", "azureeventhub"} {
		_, err := notify.New(notify.Options{Type: typ, Address: "project", Channel: "topic", Token: "{}"})
		if !errors.Is(err, notify.ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", typ, err)
		}
	}
	for _, typ := range notify.Types() {
		if _, err := notify.New(notify.Options{Type: typ}); errors.Is(err, notify.ErrUnsupported) {
			t.Errorf("implemented type %s is unsupported", typ)
		}
	}
	if !notify.IsCommitStatusType("gitea") || notify.IsCommitStatusType("slack") {
		t.Error("IsCommitStatusType")
	}
}

func TestPost_TimesOut(t *testing.T) {
	ep := newEndpoint(t, nil)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	ep.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	n := mustNew(t, notify.Options{Type: "generic", Address: ep.URL, Timeout: 100 * time.Millisecond})
	start := time.Now()
	err := n.Post(context.Background(), testEvent(notify.SeverityInfo))
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms") || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %s", err, time.Since(start))
	}
}

func TestPost_GoesThroughProxy(t *testing.T) {
	proxy := newEndpoint(t, nil)
	u, _ := url.Parse(proxy.URL)
	n := mustNew(t, notify.Options{Type: "generic", Address: "http://hooks.example.invalid/flux", ProxyURL: u})
	post(t, n, testEvent(notify.SeverityInfo))
	if r := proxy.only(t); r.Host != "hooks.example.invalid" || r.Path != "/flux" {
		t.Errorf("proxy got %s %s", r.Host, r.Path)
	}
}

func TestPost_RefusesRedirectToAnotherHost(t *testing.T) {
	other := newEndpoint(t, nil)
	ep := newEndpoint(t, nil)
	ep.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/stolen", http.StatusTemporaryRedirect)
	})
	n := mustNew(t, notify.Options{Type: "generic", Address: ep.URL, Headers: map[string]string{"X-Api-Key": "k"}})
	err := n.Post(context.Background(), testEvent(notify.SeverityInfo))
	if err == nil || !strings.Contains(err.Error(), "307") {
		t.Errorf("err = %v, want the 307 answer", err)
	}
	if got := len(other.requests()); got != 0 {
		t.Errorf("the other host got %d requests", got)
	}
}
