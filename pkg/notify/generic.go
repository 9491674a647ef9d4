package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// generic POSTs the Event JSON to the address, with the Secret's headers
// and Flux's Gotk-Component header; with an HMAC key it also signs the
// body in X-Signature ("sha256=<hex HMAC>"), as generic-hmac does.
type generic struct {
	s       *sender
	url     string
	headers map[string]string
	hmacKey []byte
}

func newGeneric(o *Options) (Notifier, error) {
	u, err := parseHTTPAddress(o, o.Address)
	if err != nil {
		return nil, err
	}
	return &generic{s: newSender(o), url: u.String(), headers: o.Headers}, nil
}

func newGenericHMAC(o *Options) (Notifier, error) {
	if o.Token == "" {
		return nil, missing(o, `token (the HMAC key, Secret key "token")`)
	}
	n, err := newGeneric(o)
	if err != nil {
		return nil, err
	}
	g := n.(*generic)
	g.hmacKey = []byte(o.Token)
	return g, nil
}

func (g *generic) Post(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("notify: %s: encoding event: %w", g.s.kind, err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	for k, v := range g.headers {
		h.Set(k, v)
	}
	h.Set("Gotk-Component", e.ReportingController)
	if g.hmacKey != nil {
		mac := hmac.New(sha256.New, g.hmacKey)
		mac.Write(body)
		h.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	_, err = g.s.do(ctx, call{op: "post event", method: http.MethodPost, url: g.url, body: body, header: h})
	return err
}
