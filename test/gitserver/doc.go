// Package gitserver runs real Git servers on loopback for tests: smart HTTP through
// `git http-backend` (optionally with basic auth, a bearer token or TLS) and SSH through
// golang.org/x/crypto/ssh running git-upload-pack / git-receive-pack. Both can be stopped
// and started again on the same port to simulate an outage.
//
// Repositories are bare repositories under a Root; Repo helpers commit, branch, tag and
// push with the git CLI in a working copy whose configuration is isolated from the user's
// (no system config, HOME in a temporary directory, a fixed identity, "main" as the
// initial branch). Everything started is closed through t.Cleanup.
package gitserver
