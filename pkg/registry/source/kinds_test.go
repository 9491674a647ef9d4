package source

import "testing"

func TestWithoutUserinfo_HidesCredentialsInURLs(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/org/repo":             "https://github.com/org/repo",
		"https://user:s3cret@github.com/org/repo": "https://github.com/org/repo",
		"https://token@example.com/charts":        "https://example.com/charts",
		"oci://user:pw@ghcr.io/org/app":           "oci://ghcr.io/org/app",
		"ssh://git@github.com/org/repo":           "ssh://git@github.com/org/repo",
		"ssh://git:pw@github.com/org/repo":        "ssh://github.com/org/repo",
		"https://u:p%zz@host/x":                   "https://host/x",
	} {
		if got := withoutUserinfo(in); got != want {
			t.Errorf("withoutUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
