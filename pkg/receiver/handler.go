package receiver

import (
	"context"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// Defaults of Handler's zero fields.
const (
	DefaultMaxBodyBytes  = 1 << 20
	DefaultRatePerMinute = 60
	DefaultBurst         = 10
)

// Handler serves POST /hook/<digest> for every Receiver. Lookup and Trigger
// are required; the other fields have defaults. A Handler must not be copied
// after its first request.
type Handler struct {
	// Lookup returns the current Receiver at a webhook path (r.URL.Path);
	// false answers 404.
	Lookup func(path string) (Receiver, bool)
	// Trigger is called once a request is verified, with the body as payload;
	// an error answers 500.
	Trigger func(ctx context.Context, r Receiver, payload []byte) error
	// MaxBodyBytes caps the body (DefaultMaxBodyBytes when 0); larger → 413.
	MaxBodyBytes int64
	// RatePerMinute is the sustained rate of verified requests per Receiver
	// (DefaultRatePerMinute when 0, unlimited when negative); beyond it → 429.
	RatePerMinute float64
	// Burst is how many verified requests a Receiver may make at once
	// (DefaultBurst when 0).
	Burst int
	// Log receives one line per request; the zero Logger discards.
	Log klog.Logger
	// Now is the clock of the rate limit (time.Now when nil).
	Now func() time.Time

	once    sync.Once
	limiter *limiter // nil: unlimited
}

// outcome is what one request came to; it is written and logged once.
type outcome struct {
	status     int
	rc         *Receiver
	event      string
	err        error
	retryAfter time.Duration
}

// ServeHTTP answers one webhook request; see the package documentation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	o := h.serve(w, r)
	h.log(r, o)
	if o.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	if o.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(o.retryAfter.Seconds()))))
	}
	http.Error(w, http.StatusText(o.status), o.status)
}

func (h *Handler) init() {
	if h.RatePerMinute < 0 {
		return
	}
	perMinute, burst, now := h.RatePerMinute, h.Burst, h.Now
	if perMinute == 0 {
		perMinute = DefaultRatePerMinute
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if now == nil {
		now = time.Now
	}
	h.limiter = newLimiter(perMinute, burst, now)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) outcome {
	if r.Method != http.MethodPost {
		return outcome{status: http.StatusMethodNotAllowed}
	}
	rc, ok := h.Lookup(r.URL.Path)
	if !ok {
		return outcome{status: http.StatusNotFound}
	}
	o := outcome{rc: &rc, event: clip(EventType(rc.Type, r.Header))}
	body, err := h.readBody(w, r)
	if err != nil {
		o.err = err
		o.status = http.StatusBadRequest
		if errors.As(err, new(*http.MaxBytesError)) {
			o.status = http.StatusRequestEntityTooLarge
		}
		return o
	}
	if err := Verify(rc, r, body); err != nil {
		o.err, o.status = err, statusOf(err)
		return o
	}
	if h.limiter != nil {
		if ok, wait := h.limiter.allow(rc.Namespace + "/" + rc.Name); !ok {
			o.err, o.status, o.retryAfter = errors.New("rate limit exceeded"), http.StatusTooManyRequests, wait
			return o
		}
	}
	if err := h.Trigger(r.Context(), rc, triggerPayload(rc, r, body)); err != nil {
		o.err, o.status = err, http.StatusInternalServerError
		return o
	}
	o.status = http.StatusOK
	return o
}

func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// statusOf maps Verify's errors to HTTP answers.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrIgnoredEvent):
		return http.StatusOK
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrUnsupported):
		return http.StatusNotImplemented
	}
	return http.StatusBadRequest
}

// triggerPayload is the body, except that a form-encoded GitHub delivery
// carries its JSON in the "payload" field, which is what a CEL filter reads.
func triggerPayload(rc Receiver, r *http.Request, body []byte) []byte {
	if rc.Type != TypeGitHub {
		return body
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return body
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Has("payload") {
		return []byte(form.Get("payload"))
	}
	return body
}

// log writes one line per request: never the body or a signature, and the
// token is masked should a sender or Trigger put it in what is logged. Unknown
// paths and methods are logged at V(2) as scanners produce many.
func (h *Handler) log(r *http.Request, o outcome) {
	if o.rc == nil {
		h.Log.V(2).Info("Webhook request refused", "method", r.Method, "status", o.status)
		return
	}
	mask := func(s string) string {
		if o.rc.Token == "" {
			return s
		}
		return strings.ReplaceAll(s, o.rc.Token, "***")
	}
	kv := []any{"receiver", klog.KRef(o.rc.Namespace, o.rc.Name), "type", o.rc.Type, "status", o.status}
	if o.event != "" {
		kv = append(kv, "event", mask(o.event))
	}
	switch {
	case o.err == nil:
		h.Log.Info("Webhook request triggered the Receiver", kv...)
	case o.status == http.StatusOK:
		h.Log.Info("Webhook request ignored", append(kv, "reason", mask(o.err.Error()))...)
	default:
		h.Log.Error(errors.New(mask(o.err.Error())), "Webhook request refused", kv...)
	}
}

// clip bounds a sender-chosen header value before it is logged.
func clip(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
