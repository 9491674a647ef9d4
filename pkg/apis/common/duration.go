package common

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a duration in spec fields, kept as the text the user wrote
// ("2m" stays "2m", never "2m0s"), as Flux's CRD-backed API keeps it.
// Decoding accepts any string so that a malformed value reaches validation
// and is rejected there with its field path; Parse gives its value.
//
// The syntax is Flux's: one or more decimal numbers, each with a unit of
// ms, s, m or h, such as "30s", "1.5h" or "1h30m".
type Duration string

// durationPattern is the pattern of duration fields in Flux's CRDs.
var durationPattern = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`)

var (
	// ErrDurationSyntax is wrapped by Parse errors for text that does not
	// follow Flux's duration syntax. Its text reads as a validation message.
	ErrDurationSyntax = errors.New("must be a duration such as 30s, 5m or 1h30m (units: ms, s, m, h)")
	// ErrDurationRange is wrapped by Parse errors for well-formed text whose
	// value does not fit a time.Duration.
	ErrDurationRange = errors.New("must be less than 2562048h (about 292 years)")
)

// Parse returns the value of d. It accepts exactly what Flux's CRD pattern
// ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$ accepts, so the empty string, negative
// values and units such as "d", "us" or "ns" are errors. Errors wrap
// ErrDurationSyntax or ErrDurationRange.
func (d Duration) Parse() (time.Duration, error) {
	if !durationPattern.MatchString(string(d)) {
		return 0, fmt.Errorf("invalid duration %q: %w", string(d), ErrDurationSyntax)
	}
	v, err := time.ParseDuration(string(d))
	if err != nil {
		// The pattern leaves overflow as the only way ParseDuration fails.
		return 0, fmt.Errorf("invalid duration %q: %w", string(d), ErrDurationRange)
	}
	return v, nil
}

// DurationOf writes v in Flux's duration syntax, leaving out zero parts
// (90*time.Second is "1m30s", 2*time.Hour is "2h", 0 is "0s"). Parts below
// a second are written in milliseconds, with a fraction when needed
// (1500*time.Microsecond is "1.5ms"), because the syntax has no µs or ns.
// Parse(DurationOf(v)) == v for every v >= 0. A negative v has no form Parse
// accepts; it is written with a leading "-" so that validation rejects it
// rather than it silently changing meaning.
func DurationOf(v time.Duration) Duration {
	if v == 0 {
		return "0s"
	}
	var b strings.Builder
	u := uint64(v)
	if v < 0 {
		b.WriteByte('-')
		u = -u // two's complement: correct for math.MinInt64 too
	}
	hours, u := u/uint64(time.Hour), u%uint64(time.Hour)
	minutes, u := u/uint64(time.Minute), u%uint64(time.Minute)
	seconds, nanos := u/uint64(time.Second), u%uint64(time.Second)
	if hours > 0 {
		b.WriteString(strconv.FormatUint(hours, 10) + "h")
	}
	if minutes > 0 {
		b.WriteString(strconv.FormatUint(minutes, 10) + "m")
	}
	switch {
	case seconds > 0:
		b.WriteString(strconv.FormatUint(seconds, 10) + fraction(nanos, 9) + "s")
	case nanos > 0:
		b.WriteString(strconv.FormatUint(nanos/uint64(time.Millisecond), 10) +
			fraction(nanos%uint64(time.Millisecond), 6) + "ms")
	}
	return Duration(b.String())
}

// fraction writes n, a count of 10^-digits units, as a decimal fraction
// without trailing zeros (".5" for 500 with 3 digits), or "" when n is 0.
func fraction(n uint64, digits int) string {
	if n == 0 {
		return ""
	}
	s := strconv.FormatUint(n, 10)
	s = strings.Repeat("0", digits-len(s)) + s
	return "." + strings.TrimRight(s, "0")
}
