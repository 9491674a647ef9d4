package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponse bounds how much of a response body is read.
const maxResponse = 1 << 20

// maxSnippet bounds how much of an error response an error quotes.
const maxSnippet = 200

// sender makes the HTTP requests of one Notifier.
type sender struct {
	kind      string
	client    *http.Client
	userAgent string
	redact    *redactor
}

// newSender returns a sender with o's proxy, TLS, dialer and timeout.
func newSender(o *Options) *sender {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.ProxyURL != nil {
		tr.Proxy = http.ProxyURL(o.ProxyURL)
	}
	if o.TLSConfig != nil {
		tr.TLSClientConfig = o.TLSConfig.Clone()
	}
	if o.DialContext != nil {
		tr.DialContext = o.DialContext
	}
	tr.IdleConnTimeout = idleConnTimeout
	return &sender{
		kind:      o.Type,
		client:    &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: sameHostRedirect},
		userAgent: o.UserAgent,
		redact:    newRedactor(o),
	}
}

// idleConnTimeout closes the pooled connections of an unused Notifier.
const idleConnTimeout = 30 * time.Second

// sameHostRedirect follows redirects within the host only: net/http drops
// Authorization on a redirect to another host, but not the providers' own
// credential headers (PRIVATE-TOKEN, DD-API-KEY, the Secret's headers).
// A redirect elsewhere is returned as the answer, and so as an error.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// call is one HTTP request.
type call struct {
	// op names the request in errors, e.g. "post message".
	op     string
	method string
	url    string
	body   []byte
	header http.Header
	// okStatus accepts a non-2xx status as success (e.g. 404 on a lookup).
	okStatus func(int) bool
}

// response is what a call returns when it succeeds.
type response struct {
	status int
	body   []byte
}

// postJSON POSTs payload as JSON to target.
func (s *sender) postJSON(ctx context.Context, op, target string, payload any, header http.Header) (*response, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, s.errorf(op, target, "encoding payload: %v", err)
	}
	return s.do(ctx, call{op: op, method: http.MethodPost, url: target, body: body, header: jsonHeader(header)})
}

// getJSON GETs target and decodes a 2xx JSON answer into out; found is
// false on 404.
func (s *sender) getJSON(ctx context.Context, op, target string, header http.Header, out any) (found bool, err error) {
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Accept", "application/json")
	resp, err := s.do(ctx, call{op: op, method: http.MethodGet, url: target, header: h,
		okStatus: func(c int) bool { return c == http.StatusNotFound }})
	if err != nil {
		return false, err
	}
	if resp.status == http.StatusNotFound {
		return false, nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return false, s.errorf(op, target, "decoding answer: %v", err)
	}
	return true, nil
}

// jsonHeader returns h (or a new header) with a JSON content type.
func jsonHeader(h http.Header) http.Header {
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	return h
}

// do sends c; a transport error or a status outside 2xx (and not accepted
// by c.okStatus) is an error quoting the status and a short, redacted part
// of the body.
func (s *sender) do(ctx context.Context, c call) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		return nil, s.errorf(c.op, c.url, "building request: %v", unwrapURLError(err))
	}
	for k, vs := range c.header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", s.userAgent)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, s.errorf(c.op, c.url, "%s", describeTransportError(err, s.client.Timeout))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, s.errorf(c.op, c.url, "reading answer: %v", unwrapURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if c.okStatus == nil || !c.okStatus(resp.StatusCode) {
			return nil, s.errorf(c.op, c.url, "%s%s", resp.Status, s.snippet(body))
		}
	}
	return &response{status: resp.StatusCode, body: body}, nil
}

// errorf formats an error naming the provider type, the operation and the
// host of target (never its path, query or userinfo, which may hold
// secrets), with secret values redacted.
func (s *sender) errorf(op, target, format string, args ...any) error {
	host := "endpoint"
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		host = u.Host
	}
	msg := fmt.Sprintf("notify: %s: %s on %s: %s", s.kind, op, host, fmt.Sprintf(format, args...))
	return errors.New(s.redact.apply(msg))
}

// snippet returns ": <start of body>" with whitespace collapsed, control
// characters dropped and secrets redacted, or "" for an empty body.
func (s *sender) snippet(body []byte) string {
	text := strings.Join(strings.Fields(string(body)), " ")
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, text)
	text = s.redact.apply(text)
	if text == "" {
		return ""
	}
	if r := []rune(text); len(r) > maxSnippet {
		text = string(r[:maxSnippet]) + "…"
	}
	return fmt.Sprintf(": %q", text)
}

// describeTransportError says why a request got no answer, without the
// URL net/http puts into its errors.
func describeTransportError(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return unwrapURLError(err).Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// unwrapURLError drops the *url.Error wrapper (and so the URL) of err.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseHTTPAddress checks that address is an absolute http(s) URL. The
// error never quotes the address, which may carry credentials.
func parseHTTPAddress(o *Options, address string) (*url.URL, error) {
	if address == "" {
		return nil, missing(o, "address")
	}
	u, err := url.Parse(address)
	if err != nil {
		return nil, invalid(o, "address", "not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalid(o, "address", "the scheme must be http or https")
	}
	if u.Host == "" {
		return nil, invalid(o, "address", "the URL has no host")
	}
	return u, nil
}

// bearer returns an Authorization header with a bearer token.
func bearer(token string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	return h
}

// basicAuth returns an Authorization header with basic credentials.
func basicAuth(user, password string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	return h
}
