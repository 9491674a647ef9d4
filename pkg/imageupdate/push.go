package imageupdate

import (
	"context"
	"fmt"
	"strings"

	gogit "github.com/go-git/go-git/v5"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/git"
)

// PushOptions say where the commits go (Flux's spec.git.push).
type PushOptions struct {
	// Git holds the URL, credentials, Guard and timeout: those of the checkout. Its Ref
	// and checkout-only fields are not used.
	Git git.Options
	// Branch is the remote branch HEAD is pushed to; empty means the local branch HEAD is
	// on (the one git.CheckoutForPush created).
	Branch string
	// ForceBranch overwrites the remote branch even when the push is not a fast-forward.
	// Flux does so when the push branch differs from the checkout branch (its
	// GitForcePushBranch feature, on by default); never for the checkout branch itself.
	ForceBranch bool
	// Refspec, when set, is pushed as well, after the branch: "<local>:<remote>", e.g.
	// "refs/heads/auto:refs/for/main". Deleting ("+"-less only) and forcing ("+...") are
	// refused, as in Flux.
	Refspec string
	// RefspecOnly pushes Refspec alone, not the branch: Flux's push with a refspec and no
	// branch (e.g. Gerrit's "HEAD:refs/for/main", where pushing to main is refused).
	RefspecOnly bool
	// Options are push options (`git push -o key=value`), e.g. GitLab's
	// merge_request.create; sent when the server advertises push options.
	Options map[string]string
}

// Push pushes the repository in repoDir as opts say. Errors wrap git.ErrPushRejected
// when the server did not take an update (e.g. the remote branch moved since the
// checkout: the next run starts again from a fresh checkout), git.ErrAuthentication
// and so on, and never contain credentials.
func Push(ctx context.Context, repoDir string, opts PushOptions) error {
	branch := opts.Branch
	if branch == "" {
		current, err := currentBranch(repoDir)
		if err != nil {
			return err
		}
		branch = current
	}
	spec := "HEAD:refs/heads/" + branch
	if opts.ForceBranch {
		spec = "+" + spec
	}
	specs := []string{spec}
	if opts.RefspecOnly {
		specs = nil
	}
	if opts.Refspec != "" {
		rs := strings.TrimSpace(opts.Refspec)
		if strings.HasPrefix(rs, "+") || strings.HasPrefix(rs, ":") || !strings.Contains(rs, ":") {
			return fmt.Errorf("invalid push refspec %q: '<source>:<destination>' is required; force (+) and delete refspecs are not supported", opts.Refspec)
		}
		specs = append(specs, rs)
	}
	if len(specs) == 0 {
		return fmt.Errorf("pushing: RefspecOnly needs a refspec")
	}
	return git.Push(ctx, repoDir, opts.Git, specs, opts.Options)
}

// currentBranch returns the branch HEAD is on.
func currentBranch(repoDir string) (string, error) {
	repo, err := gogit.PlainOpen(repoDir)
	if err != nil {
		return "", fmt.Errorf("pushing: opening the repository: %w", err)
	}
	head, err := repo.Head()
	if err != nil {
		return "", fmt.Errorf("pushing: %w", err)
	}
	if !head.Name().IsBranch() {
		return "", fmt.Errorf("pushing: HEAD is not on a branch: set the push branch")
	}
	return head.Name().Short(), nil
}
