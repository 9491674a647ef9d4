package notify_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// Secret values that no error may contain.
const (
	secretToken    = "tok-SECRET-1234"
	secretPassword = "pw-SECRET-5678"
	secretHeader   = "hdr-SECRET-9012"
	secretUser     = "usr-SECRET-3456"
	secretAddrPass = "addrpw-SECRET-7890"
	secretPath     = "path-SECRET-abcdefghijkl"
)

var secrets = []string{secretToken, secretPassword, secretHeader, secretUser, secretAddrPass, secretPath, "SECRET"}

// secretOptions configures typ with every secret it can take, against
// the server at hostport.
func secretOptions(typ, scheme, hostport string) notify.Options {
	base := scheme + "://" + secretUser + ":" + secretAddrPass + "@" + hostport
	o := notify.Options{
		Type: typ, Address: base + "/hooks/" + secretPath + "?sig=" + secretPath,
		Token: secretToken, Password: secretPassword, Username: "flux", Channel: "room",
		Headers: map[string]string{"X-Api-Key": secretHeader}, ProviderUID: providerUID, Timeout: 5 * time.Second,
	}
	switch typ {
	case "github", "gitlab", "gitea", "githubdispatch":
		o.Address = base + "/org/repo"
	case "bitbucket":
		o.Address = base + "/org/repo"
		o.Token = secretUser + ":" + secretToken
	case "bitbucketserver":
		o.Address = base + "/scm/org/repo.git"
	case "azuredevops":
		o.Address = base + "/org/project/_git/repo"
	case "sentry":
		o.Address = base + "/42"
	case "nats":
		o.Address = "nats://" + secretUser + ":" + secretAddrPass + "@" + hostport
		o.Timeout = time.Second // an HTTP server never greets a NATS client
	}
	return o
}

func assertNoSecret(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%s: error contains %q: %v", what, s, err)
		}
	}
}

// echo answers 500 with everything it received: method, URL, headers, body.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "%s %s %s %v %s", r.Method, r.Host, r.URL.String(), r.Header, body)
}

func TestErrors_NeverContainSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(srv.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	u, _ := url.Parse(srv.URL)

	types := append(notify.Types(), "googlepubsub", "azureeventhub", "no-such-type")
	for _, typ := range types {
		t.Run(typ, func(t *testing.T) {
			targets := map[string]string{"echoing server": u.Host, "closed port": closedAddr}
			if typ == "nats" {
				targets = map[string]string{"closed port": closedAddr, "HTTP server": u.Host}
			}
			for what, hostport := range targets {
				n, err := notify.New(secretOptions(typ, "http", hostport))
				assertNoSecret(t, "New", err)
				if err != nil {
					continue
				}
				for _, e := range []notify.Event{testEvent(notify.SeverityInfo), errorEvent()} {
					err := n.Post(context.Background(), e)
					if err == nil {
						t.Errorf("%s: Post succeeded", what)
					}
					assertNoSecret(t, what, err)
				}
			}
			// Invalid options never echo the secrets either.
			for _, o := range []notify.Options{
				secretOptions(typ, "ftp", u.Host),
				{Type: typ, Address: "http://" + secretUser + ":" + secretAddrPass + "@%zz/" + secretPath, Token: "x"},
				{Type: typ, Address: "::" + secretPath},
			} {
				_, err := notify.New(o)
				assertNoSecret(t, "New with a bad address", err)
			}
		})
	}
}

func TestErrors_QuoteStatusAndShortAnswer(t *testing.T) {
	long := strings.Repeat("x", 5000)
	ep := newEndpoint(t, func(*http.Request) (int, string) { return http.StatusBadRequest, "invalid_payload\n" + long })
	n := mustNew(t, notify.Options{Type: "generic", Address: ep.URL + "/hook"})
	err := n.Post(context.Background(), testEvent(notify.SeverityInfo))
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "invalid_payload") {
		t.Fatalf("err = %v", err)
	}
	if len(err.Error()) > 400 || strings.Contains(err.Error(), "/hook") {
		t.Errorf("error is %d bytes or names the path: %v", len(err.Error()), err)
	}
}
