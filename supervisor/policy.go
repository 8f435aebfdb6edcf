package supervisor

import (
	"math"
	"math/rand/v2"
	"time"
)

// Policy is the retry policy of one consumer or event handler.
type Policy struct {
	// MaxRetries is the number of retries after the first attempt: a record
	// gets at most MaxRetries+1 attempts. Zero means no retry.
	MaxRetries int
	// Initial is the delay before the first retry. Default 100ms.
	Initial time.Duration
	// Max caps the delay. Default 10s.
	Max time.Duration
	// Multiplier grows the delay per retry. Default 2.
	Multiplier float64
	// Jitter spreads each delay by up to +/- this fraction, so that many
	// failing records do not retry in lockstep. Default 0.2; 0 is none.
	Jitter float64
}

// DefaultPolicy is three retries from 100ms doubling up to 10s, 20% jitter.
func DefaultPolicy() Policy {
	return Policy{MaxRetries: 3, Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.2}
}

// WithDefaults fills zero fields (but MaxRetries and Jitter, whose zero is
// meaningful) with DefaultPolicy's values.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	if p.Initial <= 0 {
		p.Initial = d.Initial
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.Multiplier < 1 {
		p.Multiplier = d.Multiplier
	}
	if p.Jitter < 0 {
		p.Jitter = 0
	}
	if p.Jitter > 1 {
		p.Jitter = 1
	}
	if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	return p
}

// ShouldRetry reports whether a record that failed its attempt-th attempt
// (1 for the first) with directive d gets another.
func (p Policy) ShouldRetry(d Directive, attempt int) bool {
	return d == Retry && attempt <= p.MaxRetries
}

// Delay is the wait before retry number retry (1 for the first retry):
// Initial * Multiplier^(retry-1), capped at Max, then jittered.
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
