package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// natsNotifier publishes the Event JSON on the subject named by the
// channel, on the NATS server of the address, as Flux does: one
// connection per event, with username and password (or a token, or
// credentials in the server URL).
type natsNotifier struct {
	server, subject    string
	username, password string
	token              string
	timeout            time.Duration
	opts               *Options
	redact             *redactor
}

func newNATS(o *Options) (Notifier, error) {
	if o.Address == "" {
		return nil, missing(o, "address (the NATS server URL)")
	}
	if o.Channel == "" {
		return nil, missing(o, "channel (the subject)")
	}
	if (o.Username == "") != (o.Password == "") {
		return nil, missing(o, "username and password together")
	}
	return &natsNotifier{
		server: o.Address, subject: o.Channel,
		username: o.Username, password: o.Password, token: o.Token,
		timeout: o.Timeout, opts: o, redact: newRedactor(o),
	}, nil
}

func (n *natsNotifier) Post(ctx context.Context, e Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("notify: nats: encoding event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	opts := []natsgo.Option{
		natsgo.Name(n.opts.UserAgent),
		natsgo.Timeout(n.timeout),
		natsgo.NoReconnect(),
	}
	if n.username != "" {
		opts = append(opts, natsgo.UserInfo(n.username, n.password))
	}
	if n.token != "" {
		opts = append(opts, natsgo.Token(n.token))
	}
	if n.opts.TLSConfig != nil {
		opts = append(opts, natsgo.Secure(n.opts.TLSConfig.Clone()))
	}
	if n.opts.DialContext != nil {
		opts = append(opts, natsgo.SetCustomDialer(ctxDialer{ctx: ctx, dial: n.opts.DialContext}))
	}
	nc, err := natsgo.Connect(n.server, opts...)
	if err != nil {
		return n.errorf("connecting", err)
	}
	defer nc.Close()
	if err := nc.Publish(n.subject, payload); err != nil {
		return n.errorf("publishing", err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return n.errorf("flushing", err)
	}
	if err := nc.LastError(); err != nil {
		return n.errorf("publishing", err)
	}
	return nil
}

func (n *natsNotifier) errorf(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %s", n.timeout)
	}
	return errors.New(n.redact.apply(fmt.Sprintf("notify: nats: %s on subject %q: %v", op, n.subject, err)))
}

// ctxDialer adapts a context dialer (the network guard) to nats.go.
type ctxDialer struct {
	ctx  context.Context
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (d ctxDialer) Dial(network, address string) (net.Conn, error) {
	return d.dial(d.ctx, network, address)
}
