// Package supervisor owns what happens when a handler fails: the one error
// classification (done, retry, permanent: [Decide]), the retry policy (max
// retries, exponential backoff with jitter: [Policy]), the one failure
// pipeline that turns both into what follows a failed attempt (retry after
// a delay, dead-letter, skip: [Pipeline.After]), used by consumers and
// event handlers alike, and the protoactor supervisor strategy that
// restarts a crashed handler actor while keeping the record it was working
// on, so that a restart never drops a record.
package supervisor

import (
	"errors"
	"fmt"
)

// Directive is the classification of one attempt's outcome.
type Directive int

const (
	// Done: the record is finished.
	Done Directive = iota
	// Retry: try again after a backoff, while attempts remain.
	Retry
	// Permanent: never retry; dead-letter (or log and skip) at once.
	Permanent
)

// String names the directive.
func (d Directive) String() string {
	switch d {
	case Done:
		return "done"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("Directive(%d)", int(d))
}

// retryError marks an error as retryable explicitly.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// permanentError marks an error as not worth retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RetryError returns err marked retryable. Any plain error is retryable
// already; the mark documents intent and overrides an inner Permanent.
func RetryError(err error) error {
	if err == nil {
		err = errors.New("retry requested")
	}
	return &retryError{err}
}

// PermanentError returns err marked permanent: the record is not retried.
func PermanentError(err error) error {
	if err == nil {
		err = errors.New("permanent failure")
	}
	return &permanentError{err}
}

// PanicError is the failure recorded when a handler panics.
type PanicError struct{ Value any }

// Error says the handler panicked, with the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }

// ErrHandlerTimeout is the failure of an attempt that outlived the
// handler timeout. It is retryable.
var ErrHandlerTimeout = errors.New("handler timed out")

// Decide classifies an attempt's outcome: nil is Done; an error marked
// permanent (and not re-marked retry outside it) is Permanent; every other
// error, panics and timeouts included, is Retry.
func Decide(err error) Directive {
	if err == nil {
		return Done
	}
	for e := err; e != nil; {
		switch e.(type) {
		case *retryError:
			return Retry
		case *permanentError:
			return Permanent
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	// Joined errors: permanent if any part is.
	var pe *permanentError
	if errors.As(err, &pe) {
		return Permanent
	}
	return Retry
}
