package notify

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// minSecret is the shortest value the redactor hides: replacing shorter
// strings would garble every message without protecting much.
const minSecret = 3

// minPathSecret is the shortest address path segment treated as a secret:
// webhook URLs carry their credential in the path (Slack, Discord, ...).
const minPathSecret = 16

// urlUserinfo matches the userinfo of URLs ("scheme://user:pass@").
var urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'"]*@`)

// redactor removes secret values from text.
type redactor struct {
	secrets []string
}

// newRedactor collects the secret values of o: token, password, header
// values, URL credentials, query values and long path segments of the
// address (webhook URLs carry their credential there).
func newRedactor(o *Options) *redactor {
	var s []string
	s = append(s, o.Token, o.Password)
	for _, v := range o.Headers {
		s = append(s, v)
	}
	if o.ProxyURL != nil {
		s = append(s, userinfo(o.ProxyURL)...)
	}
	// Basic credentials travel base64-encoded in Authorization headers,
	// which an endpoint may echo.
	pairs := []string{o.Username + ":" + o.Password, ":" + o.Token, o.Token}
	if u, err := url.Parse(o.Address); err == nil {
		s = append(s, userinfo(u)...)
		if u.User != nil {
			pairs = append(pairs, u.User.String())
		}
		for _, vs := range u.Query() {
			s = append(s, vs...)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if len(seg) >= minPathSecret {
				s = append(s, seg)
			}
		}
		if u.RawQuery != "" {
			s = append(s, u.RawQuery)
		}
	}
	for _, p := range pairs {
		if len(p) > 1 {
			s = append(s, base64.StdEncoding.EncodeToString([]byte(p)))
		}
	}
	r := &redactor{}
	for _, v := range s {
		if len(v) >= minSecret && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
			// Secrets also travel URL-escaped (paths, queries, JSON echoes).
			if esc := url.QueryEscape(v); esc != v {
				r.secrets = append(r.secrets, esc)
			}
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

func userinfo(u *url.URL) []string {
	if u.User == nil {
		return nil
	}
	p, _ := u.User.Password()
	return []string{u.User.Username(), p}
}

// apply returns s without URL userinfo and with every secret value
// replaced by "***".
func (r *redactor) apply(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "$1")
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}
