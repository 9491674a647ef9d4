package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/notify"
)

// startNATS runs a NATS server on loopback, configured by opts.
func startNATS(t *testing.T, opts natsserver.Options) *natsserver.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := natsserver.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	return s
}

// subscribe returns the channel of messages on subject.
func subscribe(t *testing.T, url, subject string, opts ...natsgo.Option) chan *natsgo.Msg {
	t.Helper()
	nc, err := natsgo.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan *natsgo.Msg, 4)
	if _, err := nc.ChanSubscribe(subject, ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

func receive(t *testing.T, ch chan *natsgo.Msg) notify.Event {
	t.Helper()
	select {
	case m := <-ch:
		var e notify.Event
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatalf("message is not an Event: %v", err)
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	return notify.Event{}
}

func TestNATS_PublishesEventJSONWithUserPassword(t *testing.T) {
	s := startNATS(t, natsserver.Options{Username: "flux", Password: "nats-pass"})
	ch := subscribe(t, s.ClientURL(), "flux.events", natsgo.UserInfo("flux", "nats-pass"))

	n := mustNew(t, notify.Options{Type: "nats", Address: s.ClientURL(), Channel: "flux.events", Username: "flux", Password: "nats-pass"})
	sent := testEvent(notify.SeverityInfo)
	post(t, n, sent)
	if got := receive(t, ch); got.Message != sent.Message || got.InvolvedObject.Name != "webapp" || got.Metadata["summary"] != "cluster eu-1" {
		t.Errorf("received %+v", got)
	}

	wrong := mustNew(t, notify.Options{Type: "nats", Address: s.ClientURL(), Channel: "flux.events", Username: "flux", Password: "wrong-pass"})
	err := wrong.Post(context.Background(), sent)
	if err == nil || strings.Contains(err.Error(), "wrong-pass") {
		t.Errorf("wrong password: err = %v", err)
	}
}

func TestNATS_PublishesWithToken(t *testing.T) {
	s := startNATS(t, natsserver.Options{Authorization: "nats-token"})
	ch := subscribe(t, s.ClientURL(), "flux", natsgo.Token("nats-token"))
	n := mustNew(t, notify.Options{Type: "nats", Address: s.ClientURL(), Channel: "flux", Token: "nats-token"})
	post(t, n, errorEvent())
	if got := receive(t, ch); got.Severity != notify.SeverityError {
		t.Errorf("received %+v", got)
	}
}
