package supervisor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The default retry policy, the one home of these values: everything that
// defaults a retry policy (the actors package, the daemon's config) refers
// to them.
const (
	// DefaultMaxRetries is the retries after the first attempt: four
	// attempts in all.
	DefaultMaxRetries = 3
	// DefaultInitialBackoff is the delay before the first retry.
	DefaultInitialBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff caps the delay between attempts.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultMultiplier grows the delay per retry.
	DefaultMultiplier = 2.0
	// DefaultJitter spreads each delay by up to +/- 20%.
	DefaultJitter = 0.2
)

// Policy is the retry policy of one consumer or event handler. Its zero
// value is not valid (Initial is zero): start from [DefaultPolicy], and
// check a policy built by hand with [Policy.Validate]. Nothing clamps a
// bad value.
type Policy struct {
	// MaxRetries is the number of retries after the first attempt: a record
	// gets at most MaxRetries+1 attempts. Zero means no retry.
	MaxRetries int
	// Initial is the delay before the first retry, above zero
	// ([DefaultInitialBackoff]).
	Initial time.Duration
	// Max caps the delay, at least Initial ([DefaultMaxBackoff]).
	Max time.Duration
	// Multiplier grows the delay per retry, at least 1
	// ([DefaultMultiplier]); 1 keeps it constant.
	Multiplier float64
	// Jitter spreads each delay by up to +/- this fraction, in [0, 1], so
	// that many failing records do not retry in lockstep
	// ([DefaultJitter]); 0 is none.
	Jitter float64
}

// DefaultPolicy is the policy of the Default constants: three retries
// from 100ms doubling up to 10s, 20% jitter.
func DefaultPolicy() Policy {
	return Policy{
		MaxRetries: DefaultMaxRetries,
		Initial:    DefaultInitialBackoff,
		Max:        DefaultMaxBackoff,
		Multiplier: DefaultMultiplier,
		Jitter:     DefaultJitter,
	}
}

// Validate reports the first bad field of p as an error naming the field
// and its value: MaxRetries below 0, Initial not above 0, Max below
// Initial, Multiplier below 1, Jitter outside [0, 1], or a float that is
// NaN or infinite. A nil error means Delay and ShouldRetry behave as
// documented for every attempt.
func (p Policy) Validate() error {
	switch {
	case p.MaxRetries < 0:
		return fmt.Errorf("retry policy: MaxRetries %d is negative", p.MaxRetries)
	case p.Initial <= 0:
		return fmt.Errorf("retry policy: Initial %v is not above zero", p.Initial)
	case p.Max < p.Initial:
		return fmt.Errorf("retry policy: Max %v is below Initial %v", p.Max, p.Initial)
	case math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0):
		return fmt.Errorf("retry policy: Multiplier %v is not a finite number", p.Multiplier)
	case p.Multiplier < 1:
		return fmt.Errorf("retry policy: Multiplier %v is below 1", p.Multiplier)
	case math.IsNaN(p.Jitter) || math.IsInf(p.Jitter, 0):
		return fmt.Errorf("retry policy: Jitter %v is not a finite number", p.Jitter)
	case p.Jitter < 0 || p.Jitter > 1:
		return fmt.Errorf("retry policy: Jitter %v is outside [0, 1]", p.Jitter)
	}
	return nil
}

// ShouldRetry reports whether a record that failed its attempt-th attempt
// (1 for the first) with directive d gets another. [Pipeline.After] is the
// whole decision; this is its retry rule alone.
func (p Policy) ShouldRetry(d Directive, attempt int) bool {
	return d == Retry && attempt <= p.MaxRetries
}

// Delay is the wait before retry number retry (1 for the first retry):
// Initial * Multiplier^(retry-1), capped at Max, then jittered. It costs
// a math.Pow and, with jitter, one random number.
func (p Policy) Delay(retry int) time.Duration {
	if retry < 1 {
		retry = 1
	}
	d := float64(p.Initial) * math.Pow(p.Multiplier, float64(retry-1))
	if d > float64(p.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.Max)
	}
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rand.Float64()-1)
	}
	if d < 0 {
		d = 0
	}
	return time.Duration(d)
}
