package notify

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCommitSHA_ParsesEveryFluxRevisionFormat(t *testing.T) {
	const sha = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"
	for rev, want := range map[string]string{
		"main@sha1:" + sha:                  sha,
		"refs/heads/main@sha1:" + sha:       sha,
		"v1.2.3@sha1:" + sha:                sha,
		"refs/pull/1/head@sha1:" + sha:      sha,
		"sha1:" + sha:                       sha,
		"main/" + sha:                       sha,
		"feature/x/" + sha:                  sha,
		sha:                                 sha,
		"main@sha1:" + "ABCDEF0123456789ab": "abcdef0123456789ab",
		"main@sha256:" + sha + sha[:24]:     sha + sha[:24],
		"main":                              "",
		"main@sha1:not-a-hash":              "",
		"":                                  "",
	} {
		got, err := commitSHA(rev)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("commitSHA(%q) = %q, %v; want %q", rev, got, err, want)
		}
	}
}

func TestCommitStatusText_FollowsFlux(t *testing.T) {
	e := &Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "Apps"}, Reason: "HealthCheckFailed"}
	if got := commitStatusDescription(e); got != "health check failed" {
		t.Errorf("description = %q", got)
	}
	if got := defaultCommitStatusID("0c9c2e41-d2f9-4f9b", e); got != "kustomization/apps/0c9c2e41" {
		t.Errorf("ID = %q", got)
	}
	if got := defaultCommitStatusID("", e); got != "kustomization/apps" {
		t.Errorf("ID without UID = %q", got)
	}
	for in, want := range map[string][]string{
		"ReconciliationSucceeded": {"Reconciliation", "Succeeded"},
		"HTTPServerError":         {"HTTP", "Server", "Error"},
		"Progressing":             {"Progressing"},
	} {
		if got := splitCamelCase(in); len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
			t.Errorf("splitCamelCase(%q) = %q", in, got)
		}
	}
}

func TestParseGitAddress_AcceptsHTTPSSHAndSCP(t *testing.T) {
	for address, want := range map[string]gitRepository{
		"https://github.com/org/repo":             {"https://github.com", "org/repo"},
		"https://user:pw@github.com/org/repo.git": {"https://github.com", "org/repo"},
		"http://127.0.0.1:3000/org/repo/":         {"http://127.0.0.1:3000", "org/repo"},
		"ssh://git@github.com:22/org/repo.git":    {"https://github.com", "org/repo"},
		"git@gitlab.com:group/sub/repo.git":       {"https://gitlab.com", "group/sub/repo"},
	} {
		got, err := parseGitAddress(&Options{Type: "github", Address: address})
		if err != nil || got != want {
			t.Errorf("parseGitAddress(%q) = %+v, %v; want %+v", address, got, err, want)
		}
	}
	for _, address := range []string{"", "https://github.com", "ftp://host/org/repo"} {
		if _, err := parseGitAddress(&Options{Type: "github", Address: address}); err == nil {
			t.Errorf("parseGitAddress(%q): no error", address)
		}
	}
}
