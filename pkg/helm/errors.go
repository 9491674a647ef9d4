package helm

import (
	"errors"
	"net/url"
)

var (
	// ErrAuthentication means the repository or registry refused the
	// credentials (HTTP 401 or 403).
	ErrAuthentication = errors.New("authentication failed")
	// ErrTooLarge means a download or a chart exceeded its size cap.
	ErrTooLarge = errors.New("download exceeds the size limit")
	// ErrInvalidURL means a repository URL cannot be used.
	ErrInvalidURL = errors.New("invalid repository URL")
	// ErrDigestMismatch means a chart does not have the index's digest.
	ErrDigestMismatch = errors.New("chart digest mismatch")
	// ErrInvalidIndex means index.yaml could not be understood.
	ErrInvalidIndex = errors.New("invalid repository index")
	// ErrChartNotFound means the repository has no such chart.
	ErrChartNotFound = errors.New("chart not found")
	// ErrVersionNotFound means no version of the chart matches the range.
	ErrVersionNotFound = errors.New("no chart version found")
	// ErrInvalidChart means an archive or directory is not a usable chart.
	ErrInvalidChart = errors.New("invalid chart")
	// ErrUnsafePath means a path given by a user points outside the source.
	ErrUnsafePath = errors.New("path escapes the source root")
	// ErrDependency means Chart.yaml declares a dependency this server
	// cannot build as written (an alias instead of a URL, a chart that must
	// be vendored); only a change to the chart fixes it.
	ErrDependency = errors.New("unbuildable dependency")
)

// redact drops user info and query (tokens) from u for messages.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "<invalid URL>"
	}
	p.User = nil
	p.RawQuery = ""
	return p.String()
}
