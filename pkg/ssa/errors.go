package ssa

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// objectError wraps err from acting on the object named subj ("apply",
// "dry-run", "delete", ...). For Secrets, the API server's message is
// withheld: validation messages quote the rejected value.
func objectError(gk schema.GroupKind, subj, verb string, err error) error {
	if gk == secretKind {
		return fmt.Errorf("%s %s failed: %s", subj, verb, redact(err))
	}
	return fmt.Errorf("%s %s failed: %w", subj, verb, err)
}

// redact describes err without anything the server echoed back: the HTTP
// reason and the field paths of the causes only.
func redact(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		// Not from the API server (a transport error or our own); those do
		// not carry object content.
		return err.Error()
	}
	st := status.Status()
	reason := string(st.Reason)
	if reason == "" {
		reason = fmt.Sprintf("HTTP %d", st.Code)
	}
	var fields []string
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			f := c.Field
			if f == "" {
				continue
			}
			if c.Type != "" {
				f += " (" + string(c.Type) + ")"
			}
			fields = append(fields, f)
		}
	}
	sort.Strings(fields)
	msg := reason
	if len(fields) > 0 {
		msg += " on " + strings.Join(fields, ", ")
	}
	return msg + " (the server's message is not shown because it may contain Secret data)"
}

// isImmutableError reports whether err rejects a change to a field that can
// only be set on creation, which recreating the object resolves.
func isImmutableError(err error) bool {
	if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "immutable") || strings.Contains(msg, "cannot change roleref")
}

// immutableHint tells users how to get an immutable field changed.
func (k policyKeys) immutableHint() string {
	return fmt.Sprintf("the object must be recreated to change this field: enable force (spec.force) or annotate it with %s: Enabled", k.force)
}
