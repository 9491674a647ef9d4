package common

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestDuration_ParseAcceptsFluxSyntax(t *testing.T) {
	for _, tc := range []struct {
		in   Duration
		want time.Duration
	}{
		{"0s", 0},
		{"2m", 2 * time.Minute},
		{"2m0s", 2 * time.Minute},
		{"60s", time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"500ms", 500 * time.Millisecond},
		{"0.001ms", time.Microsecond},
		{"1h1h", 2 * time.Hour},
		{"10m30s", 10*time.Minute + 30*time.Second},
		{"2562047h47m16.854775807s", math.MaxInt64},
	} {
		got, err := tc.in.Parse()
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDuration_ParseRejectsWhatFluxRejects(t *testing.T) {
	for _, tc := range []struct {
		in   Duration
		want error
	}{
		{"", ErrDurationSyntax},
		{"bogus", ErrDurationSyntax},
		{"1d", ErrDurationSyntax},
		{"-1s", ErrDurationSyntax},
		{"+1s", ErrDurationSyntax},
		{"10", ErrDurationSyntax},
		{"1us", ErrDurationSyntax},
		{"1µs", ErrDurationSyntax},
		{"100ns", ErrDurationSyntax},
		{".5s", ErrDurationSyntax},
		{"1.s", ErrDurationSyntax},
		{"1m 30s", ErrDurationSyntax},
		{" 1m", ErrDurationSyntax},
		{"1M", ErrDurationSyntax},
		{"2562048h", ErrDurationRange},
		{"99999999999999999999s", ErrDurationRange},
	} {
		if _, err := tc.in.Parse(); !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) error = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestDurationOf_WritesFluxSyntax(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want Duration
	}{
		{0, "0s"},
		{time.Nanosecond, "0.000001ms"},
		{1500 * time.Nanosecond, "0.0015ms"},
		{time.Millisecond, "1ms"},
		{1500 * time.Microsecond, "1.5ms"},
		{500 * time.Millisecond, "500ms"},
		{time.Second, "1s"},
		{1500 * time.Millisecond, "1.5s"},
		{60 * time.Second, "1m"},
		{90 * time.Second, "1m30s"},
		{2 * time.Hour, "2h"},
		{time.Hour + 5*time.Second, "1h5s"},
		{time.Hour + 500*time.Millisecond, "1h500ms"},
		{time.Hour + time.Nanosecond, "1h0.000001ms"},
		{math.MaxInt64, "2562047h47m16.854775807s"},
		{-time.Second, "-1s"},
		{math.MinInt64, "-2562047h47m16.854775808s"},
	} {
		if got := DurationOf(tc.in); got != tc.want {
			t.Errorf("DurationOf(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDurationOf_RoundTripsThroughParse(t *testing.T) {
	for _, v := range []time.Duration{
		0, 1, 999, time.Microsecond, 999999, time.Millisecond + 1, time.Second - 1,
		time.Minute + time.Nanosecond, 25*time.Hour + 59*time.Minute + 59*time.Second + 999999999,
		math.MaxInt64, math.MaxInt64 - 1,
	} {
		got, err := DurationOf(v).Parse()
		if err != nil || got != v {
			t.Errorf("DurationOf(%d) = %q parses to %d, %v", int64(v), DurationOf(v), int64(got), err)
		}
	}
	if _, err := DurationOf(-time.Second).Parse(); err == nil {
		t.Error("a negative duration must not parse")
	}
}
