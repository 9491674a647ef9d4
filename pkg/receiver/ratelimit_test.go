package receiver

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestLimiter_ForgetsIdleBuckets(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	l := newLimiter(60, 1, clock.Now)
	for i := 0; i < sweepAbove; i++ {
		l.allow(fmt.Sprint(i))
	}
	if ok, _ := l.allow("0"); ok {
		t.Fatal("an empty bucket allowed a request")
	}
	clock.Step(time.Second) // every bucket is full again
	l.allow("new")
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets kept, want only the new one", len(l.buckets))
	}
}

func TestHandler_NegativeRateDisablesTheLimit(t *testing.T) {
	rc := receiverOf(TypeGeneric)
	f := newFixture(t, []Receiver{rc}, func(h *Handler) { h.RatePerMinute = -1 })
	for i := 0; i < DefaultBurst+5; i++ {
		if resp := f.post(t, rc, nil, []byte("{}")); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status = %d, want 200", i, resp.StatusCode)
		}
	}
}
