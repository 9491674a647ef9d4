// Package git fetches Git repositories for the GitRepository worker, with Flux's semantics:
// the spec.secretRef keys (AuthFromSecret), the spec.ref precedence (Ref), and Flux's
// revision format ("main@sha1:<hash>", FormatRevision).
//
// Resolve lists the remote's references without cloning, so a reconciler can compare the
// result with its last artifact's revision and skip the fetch. Checkout does a shallow,
// optionally sparse fetch and checkout into an empty directory, bounded in time
// (Options.Timeout) and in bytes written (Options.MaxFetchSize).
//
// Transports are HTTP/S (anonymous, basic auth, bearer token, custom CA) and SSH (public
// key; host keys are always verified against the secret's known_hosts). Errors wrap the
// sentinel errors of this package for classification and never contain credentials:
// URLs lose their userinfo and secret values are replaced by "***".
//
// With Options.Verify, Checkout verifies the OpenPGP signature of the commit, of the annotated
// tag, or of both (Flux's spec.verify modes HEAD, Tag, TagAndHEAD) against a KeyRing built by
// KeyRingFromSecret, after the fetch and before the working tree is written; failures wrap
// ErrCommitSignature or ErrTagSignature and the returned Commit names the verifying keys.
// Signatures are checked with github.com/ProtonMail/go-crypto over the object as git hashes it.
//
// For image automation, CheckoutForPush is a Checkout that also creates a local branch to
// commit on, and Push sends local commits with the same credentials, Guard and timeout:
// refspecs are resolved locally first (a missing source is an error, not a silent no-op)
// and a non-fast-forward update is refused with ErrPushRejected, naming the reason.
//
// The package is built on github.com/go-git/go-git/v5; no git binary is needed.
package git
