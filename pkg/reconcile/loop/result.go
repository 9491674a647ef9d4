package loop

import (
	"errors"
	"fmt"
	"time"

	"github.com/gitops-apiserver/gitops-apiserver/pkg/apis/common"
)

// A step of a reconciler either succeeds (nil) or returns one of these
// errors; the type decides what happens next. Any other error is treated as
// a Failure with the reason the step gave.

// Stalling says that retrying cannot help until the object (or something it
// refers to, e.g. a Secret) changes: Stalled=True, Ready=False, and no retry
// before the next interval.
type Stalling struct {
	Reason string
	Err    error
}

func (e *Stalling) Error() string { return e.Err.Error() }
func (e *Stalling) Unwrap() error { return e.Err }

// Waiting says that the object waits for something else (a dependency, a
// source artifact): Ready=False, Reconciling=True, retried after RequeueAfter.
type Waiting struct {
	Reason       string
	Err          error
	RequeueAfter time.Duration
}

func (e *Waiting) Error() string { return e.Err.Error() }
func (e *Waiting) Unwrap() error { return e.Err }

// Progressing says the run is under way and goes on later without holding
// a worker, e.g. a health check waiting for a rollout: Ready=Unknown and
// Reconciling=True with reason Progressing and Message, no event, and the
// object is looked at again after RequeueAfter (or at once on a change).
type Progressing struct {
	Message      string
	RequeueAfter time.Duration
}

func (e *Progressing) Error() string { return e.Message }

// Progressf returns a Progressing outcome with a formatted message.
func Progressf(after time.Duration, format string, args ...interface{}) error {
	return &Progressing{RequeueAfter: after, Message: fmt.Sprintf(format, args...)}
}

// Failure is a transient error (network, server): Ready=False, retried with
// exponential backoff up to the kind's retry interval.
type Failure struct {
	Reason string
	Err    error
}

func (e *Failure) Error() string { return e.Err.Error() }
func (e *Failure) Unwrap() error { return e.Err }

// Failf returns a Failure with a formatted message.
func Failf(reason, format string, args ...interface{}) error {
	return &Failure{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Stallf returns a Stalling error with a formatted message.
func Stallf(reason, format string, args ...interface{}) error {
	return &Stalling{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Waitf returns a Waiting error with a formatted message.
func Waitf(reason string, after time.Duration, format string, args ...interface{}) error {
	return &Waiting{Reason: reason, RequeueAfter: after, Err: fmt.Errorf(format, args...)}
}

// Outcome classifies err for the summarizer and the queue.
type Outcome int

const (
	// Succeeded: no error.
	Succeeded Outcome = iota
	// Failed: a transient error; retry with backoff.
	Failed
	// Stalled: retry only after a change.
	Stalled
	// Waited: retry after a fixed delay.
	Waited
	// InProgress: the run continues later (see Progressing).
	InProgress
)

// Classify returns the outcome of err and the reason to report.
func Classify(err error, defaultReason string) (Outcome, string) {
	var s *Stalling
	var w *Waiting
	var f *Failure
	var p *Progressing
	switch {
	case err == nil:
		return Succeeded, ""
	case errors.As(err, &p):
		return InProgress, common.ProgressingReason
	case errors.As(err, &s):
		return Stalled, s.Reason
	case errors.As(err, &w):
		return Waited, w.Reason
	case errors.As(err, &f):
		return Failed, f.Reason
	}
	return Failed, defaultReason
}

func asWaiting(err error, w **Waiting) bool { return errors.As(err, w) }

// requeueOf is when a Waiting or Progressing outcome asks to look again
// (zero when it does not say).
func requeueOf(err error) time.Duration {
	var w *Waiting
	var p *Progressing
	switch {
	case errors.As(err, &w):
		return w.RequeueAfter
	case errors.As(err, &p):
		return p.RequeueAfter
	}
	return 0
}
