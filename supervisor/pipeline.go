package supervisor

import (
	"fmt"
	"time"
)

// Action is what follows a failed attempt.
type Action int

const (
	// RetryAfter: attempt the record again after Step.Delay.
	RetryAfter Action = iota
	// DeadLetter: write the record to the dead-letter topic; it is
	// finished once the write succeeds.
	DeadLetter
	// Skip: give up without a dead-letter topic: log the record and
	// commit past it.
	Skip
)

// String names the action.
func (a Action) String() string {
	switch a {
	case RetryAfter:
		return "retry"
	case DeadLetter:
		return "dead-letter"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Step is the decision after one failed attempt.
type Step struct {
	// Action is what to do with the record.
	Action Action
	// Delay is the wait before the next attempt; set with RetryAfter only.
	Delay time.Duration
	// Directive is the failure's classification by [Decide] (Retry or
	// Permanent), for the log line and the metrics.
	Directive Directive
}

// Pipeline decides, for consumers and event handlers alike, what follows a
// failed attempt: the one place where a classification ([Decide]), a retry
// budget and backoff ([Policy]) and whether dead-lettering is on meet. It
// is a value with no state: the caller counts attempts and acts on the
// [Step]. Its Policy is used as it is; check it with [Policy.Validate].
type Pipeline struct {
	Policy Policy
	// DeadLetter is whether records that will not be retried go to a
	// dead-letter topic (else they are skipped).
	DeadLetter bool
}

// After is what follows attempt number attempt (1 for the first) failing
// with err: a retryable error with attempts left (attempt <= MaxRetries)
// is RetryAfter with Policy.Delay(attempt); otherwise, a permanent error
// at once, it is DeadLetter if p.DeadLetter, else Skip. err must be
// non-nil: a nil err (a success) is Skip with Directive Done, nothing to
// retry or dead-letter. It allocates nothing.
func (p Pipeline) After(err error, attempt int) Step {
	d := Decide(err)
	switch {
	case d == Done:
		return Step{Action: Skip, Directive: Done}
	case p.Policy.ShouldRetry(d, attempt):
		return Step{Action: RetryAfter, Delay: p.Policy.Delay(attempt), Directive: d}
	case p.DeadLetter:
		return Step{Action: DeadLetter, Directive: d}
	}
	return Step{Action: Skip, Directive: d}
}
