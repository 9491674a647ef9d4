package image

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/Masterminds/semver/v3"
)

// Sort orders of the Alphabetical and Numerical policies (spec.policy.*.order).
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"
)

// ErrNoMatch is returned (wrapped) when no tag satisfies the filter and the policy.
var ErrNoMatch = errors.New("no tag matches the policy")

// Policy picks the latest of a list of versions (tags, or the values a TagFilter
// extracted from them). It returns ErrNoMatch when none qualifies.
type Policy interface {
	Latest(versions []string) (string, error)
}

var (
	_ Policy = &SemVer{}
	_ Policy = &Alphabetical{}
	_ Policy = &Numerical{}
)

// SemVer picks the highest version within a range.
type SemVer struct {
	Range      string
	constraint *semver.Constraints
}

// NewSemVer parses a Masterminds range such as ">=1.0.0", "5.1.x" or "^1.x-0".
func NewSemVer(versionRange string) (*SemVer, error) {
	c, err := semver.NewConstraint(versionRange)
	if err != nil {
		return nil, fmt.Errorf("%w: semver range '%s': %v", ErrInvalidOptions, versionRange, err)
	}
	return &SemVer{Range: versionRange, constraint: c}, nil
}

// Latest returns the highest version in the range. Values that are not versions are
// ignored; a leading "v" is accepted. Between equal versions ("1.0" and "v1.0.0") the
// lexically greatest string wins, so the choice does not depend on the input order.
func (p *SemVer) Latest(versions []string) (string, error) {
	var best *semver.Version
	var bestStr string
	for _, s := range versions {
		v, err := semver.NewVersion(s)
		if err != nil || !p.constraint.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || (v.Equal(best) && s > bestStr) {
			best, bestStr = v, s
		}
	}
	if best == nil {
		return "", fmt.Errorf("%w: none of %d versions is in semver range '%s'", ErrNoMatch, len(versions), p.Range)
	}
	return bestStr, nil
}

// Alphabetical picks the last value once sorted byte-wise in Order: the greatest for
// "asc", the smallest for "desc".
type Alphabetical struct {
	Order string
}

// NewAlphabetical validates order: "asc" (also for ""), or "desc".
func NewAlphabetical(order string) (*Alphabetical, error) {
	o, err := checkOrder(order)
	if err != nil {
		return nil, err
	}
	return &Alphabetical{Order: o}, nil
}

// Latest implements Policy.
func (p *Alphabetical) Latest(versions []string) (string, error) {
	if len(versions) == 0 {
		return "", fmt.Errorf("%w: the list is empty", ErrNoMatch)
	}
	best := versions[0]
	for _, s := range versions[1:] {
		if (p.Order == OrderDesc && s < best) || (p.Order != OrderDesc && s > best) {
			best = s
		}
	}
	return best, nil
}

// Numerical picks the last value once sorted as numbers in Order: the greatest for "asc",
// the smallest for "desc". Every value must parse as a number.
type Numerical struct {
	Order string
}

// NewNumerical validates order: "asc" (also for ""), or "desc".
func NewNumerical(order string) (*Numerical, error) {
	o, err := checkOrder(order)
	if err != nil {
		return nil, err
	}
	return &Numerical{Order: o}, nil
}

// Latest fails on a value that is not a number, as Flux does: filter the tags first (see
// TagFilter). Between equal numbers ("1" and "1.0") the lexically greatest string wins.
func (p *Numerical) Latest(versions []string) (string, error) {
	if len(versions) == 0 {
		return "", fmt.Errorf("%w: the list is empty", ErrNoMatch)
	}
	var best float64
	var bestStr string
	for i, s := range versions {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", fmt.Errorf("%w: '%s' is not a number (select numeric tags with filterTags)", ErrNoMatch, s)
		}
		better := f > best
		if p.Order == OrderDesc {
			better = f < best
		}
		if i == 0 || better || (f == best && s > bestStr) {
			best, bestStr = f, s
		}
	}
	return bestStr, nil
}

func checkOrder(order string) (string, error) {
	switch order {
	case "", OrderAsc:
		return OrderAsc, nil
	case OrderDesc:
		return OrderDesc, nil
	}
	return "", fmt.Errorf("%w: order '%s' must be '%s' or '%s'", ErrInvalidOptions, order, OrderAsc, OrderDesc)
}

// TagFilter is Flux's spec.filterTags: only the tags matching Pattern are considered and,
// when Extract is set, the policy compares Extract expanded with the match ("$name",
// "${1}", see regexp.Regexp.Expand) instead of the tag.
type TagFilter struct {
	Pattern string
	Extract string
	re      *regexp.Regexp
}

// NewTagFilter compiles pattern (a Go regular expression).
func NewTagFilter(pattern, extract string) (*TagFilter, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: filterTags pattern '%s': %v", ErrInvalidOptions, pattern, err)
	}
	return &TagFilter{Pattern: pattern, Extract: extract, re: re}, nil
}

// apply returns the values to compare and, for each, the tag it came from. Tags that
// extract to the same value are represented by the lexically greatest one.
func (f *TagFilter) apply(tags []string) ([]string, map[string]string) {
	origin := make(map[string]string, len(tags))
	values := make([]string, 0, len(tags))
	for _, tag := range tags {
		value := tag
		if f != nil {
			m := f.re.FindStringSubmatchIndex(tag)
			if m == nil {
				continue
			}
			if f.Extract != "" {
				value = string(f.re.ExpandString(nil, f.Extract, tag, m))
			}
		}
		prev, seen := origin[value]
		if !seen {
			values = append(values, value)
		}
		if !seen || tag > prev {
			origin[value] = tag
		}
	}
	return values, origin
}

// SelectLatest returns the tag policy p picks among tags, after filter (nil: all tags).
// The error wraps ErrNoMatch when no tag qualifies.
func SelectLatest(tags []string, filter *TagFilter, p Policy) (string, error) {
	values, origin := filter.apply(tags)
	if len(values) == 0 {
		if filter != nil {
			return "", fmt.Errorf("%w: none of %d tags matches pattern '%s'", ErrNoMatch, len(tags), filter.Pattern)
		}
		return "", fmt.Errorf("%w: the repository has no tags", ErrNoMatch)
	}
	latest, err := p.Latest(values)
	if err != nil {
		return "", err
	}
	return origin[latest], nil
}
