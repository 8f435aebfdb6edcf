package supervisor

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// UnavailableError marks a failure as the downstream's, not the record's:
// an http 503 or 429, a refused connection, an exec exit code 69
// (EX_UNAVAILABLE), or a service's own error wrapped with
// actors.Unavailable. It opens its consumer's circuit at once; it is
// retryable.
type UnavailableError struct {
	Err error
	// RetryAfter is how long the downstream asked to be left alone (an
	// http Retry-After), zero when it did not say.
	RetryAfter time.Duration
}

func (e *UnavailableError) Error() string { return e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable returns err marked as the downstream being unavailable,
// asking to wait retryAfter (zero: no wish) before the next attempt.
func Unavailable(err error, retryAfter time.Duration) error {
	if err == nil {
		err = errors.New("downstream unavailable")
	}
	return &UnavailableError{Err: err, RetryAfter: max(retryAfter, 0)}
}

// IsUnavailable reports whether err is marked unavailable, and the wait it
// asked for.
func IsUnavailable(err error) (retryAfter time.Duration, ok bool) {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.RetryAfter, true
	}
	return 0, false
}

// CircuitConfig tunes a consumer's circuit breaker; the zero value of a
// field means its default (DefaultCircuit).
type CircuitConfig struct {
	// FailureRatio is the share of failed attempts within Window, from 0
	// (exclusive) to 1, at or above which the circuit opens once
	// MinFailures records have failed.
	FailureRatio float64
	// MinFailures is how many distinct records must have failed within
	// Window before the ratio opens the circuit.
	MinFailures int
	// Window is how far back failures and successes count.
	Window time.Duration
	// ProbeInitial and ProbeMax bound the wait between probes while the
	// circuit is open: it starts at ProbeInitial and doubles after each
	// failed probe up to ProbeMax. A Retry-After the downstream sent is
	// honoured within them.
	ProbeInitial, ProbeMax time.Duration
}

// The circuit breaker's defaults.
const (
	DefaultFailureRatio = 0.5
	DefaultMinFailures  = 5
	DefaultWindow       = 10 * time.Second
	DefaultProbeInitial = time.Second
	DefaultProbeMax     = 30 * time.Second
)

// WithDefaults fills c's zero fields with the defaults.
func (c CircuitConfig) WithDefaults() CircuitConfig {
	if c.FailureRatio == 0 {
		c.FailureRatio = DefaultFailureRatio
	}
	if c.MinFailures == 0 {
		c.MinFailures = DefaultMinFailures
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.ProbeInitial == 0 {
		c.ProbeInitial = DefaultProbeInitial
		if c.ProbeMax > 0 {
			c.ProbeInitial = min(c.ProbeInitial, c.ProbeMax)
		}
	}
	if c.ProbeMax == 0 {
		c.ProbeMax = max(DefaultProbeMax, c.ProbeInitial)
	}
	return c
}

// Validate reports the first bad field of c (after defaults), naming it.
func (c CircuitConfig) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.FailureRatio <= 0 || c.FailureRatio > 1:
		return fmt.Errorf("circuit failure_ratio %v is not in (0, 1]", c.FailureRatio)
	case c.MinFailures < 1:
		return fmt.Errorf("circuit min_failures %d is less than 1", c.MinFailures)
	case c.Window < time.Second:
		return fmt.Errorf("circuit window %v is shorter than 1s", c.Window)
	case c.Window > time.Hour:
		return fmt.Errorf("circuit window %v is longer than 1h", c.Window)
	case c.ProbeInitial < time.Millisecond:
		return fmt.Errorf("circuit probe_interval.initial %v is shorter than 1ms", c.ProbeInitial)
	case c.ProbeMax < c.ProbeInitial:
		return fmt.Errorf("circuit probe_interval.max %v is shorter than probe_interval.initial %v", c.ProbeMax, c.ProbeInitial)
	case c.ProbeMax > time.Hour:
		return fmt.Errorf("circuit probe_interval.max %v is longer than 1h", c.ProbeMax)
	}
	return nil
}

// CircuitHooks observe a circuit; every field is optional. They are called
// with no lock held.
type CircuitHooks struct {
	// Opened: the circuit opened because of err.
	Opened func(err error)
	// Closed: a probe succeeded after the circuit was open for d, with
	// probes probes sent.
	Closed func(d time.Duration, probes int)
}

// Circuit is one consumer's circuit breaker, shared by its partition
// actors. Closed, records run as usual and their failures spend their
// retry budget. When failures look like the downstream's (an
// UnavailableError, or MinFailures distinct records failing at
// FailureRatio or more within Window), it opens: no record runs but one
// probe at a time, no failure spends a record's budget, nothing is
// dead-lettered for it. A probe that succeeds (or fails with a permanent
// error: the downstream answered) closes it, and every partition runs on
// from where it was.
type Circuit struct {
	cfg   CircuitConfig
	hooks CircuitHooks
	now   func() time.Time

	// isOpen mirrors open for Open, which handler actors ask between
	// records without the lock.
	isOpen atomic.Bool

	mu     sync.Mutex
	open   bool
	opened time.Time
	// probeAt is when the next probe may go; probing is whether one is
	// out, since when.
	probeAt      time.Time
	probeEvery   time.Duration
	probing      bool
	probeStarted time.Time
	probes       int
	buckets      []bucket // one a second, Window of them
	waiters      map[*byte]func()
}

// bucket counts one second's attempts.
type bucket struct {
	sec        int64
	firstFails int // records failing their first attempt
	fails, oks int
}

// NewCircuit is a closed circuit with cfg (zero fields: defaults).
func NewCircuit(cfg CircuitConfig, hooks CircuitHooks) *Circuit {
	cfg = cfg.WithDefaults()
	n := int((cfg.Window + time.Second - 1) / time.Second)
	return &Circuit{cfg: cfg, hooks: hooks, now: time.Now, buckets: make([]bucket, n), waiters: map[*byte]func(){}}
}

// Config is the circuit's settings, defaults filled.
func (c *Circuit) Config() CircuitConfig { return c.cfg }

// Open reports whether the circuit is open.
func (c *Circuit) Open() bool { return c.isOpen.Load() }

// Subscribe calls fn (from any goroutine, no lock held) each time the
// circuit closes, until the returned function is called.
func (c *Circuit) Subscribe(fn func()) (unsubscribe func()) {
	k := new(byte)
	c.mu.Lock()
	c.waiters[k] = fn
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.waiters, k)
		c.mu.Unlock()
	}
}

func (c *Circuit) bucket(now time.Time) *bucket {
	sec := now.Unix()
	b := &c.buckets[sec%int64(len(c.buckets))]
	if b.sec != sec {
		*b = bucket{sec: sec}
	}
	return b
}

// Succeeded counts n successful attempts.
func (c *Circuit) Succeeded(n int) {
	if n <= 0 {
		return
	}
	c.mu.Lock()
	c.bucket(c.now()).oks += n
	c.mu.Unlock()
}

// Failed counts a failed attempt (attempt 1 for a record's first) and
// reports whether it is an outage's: the circuit is open (it opened now, or
// was). An outage's failure must not spend the record's retry budget: the
// record waits for the circuit instead. A permanent error is the record's
// own and never an outage's.
func (c *Circuit) Failed(err error, attempt int) (outage bool) {
	if Decide(err) == Permanent {
		return false
	}
	now := c.now()
	c.mu.Lock()
	b := c.bucket(now)
	b.fails++
	if attempt <= 1 {
		b.firstFails++
	}
	if c.open {
		c.mu.Unlock()
		return true
	}
	retryAfter, unavailable := IsUnavailable(err)
	if !unavailable {
		var first, fails, oks int
		for _, x := range c.buckets {
			if now.Unix()-x.sec < int64(len(c.buckets)) {
				first, fails, oks = first+x.firstFails, fails+x.fails, oks+x.oks
			}
		}
		if first < c.cfg.MinFailures || float64(fails) < c.cfg.FailureRatio*float64(fails+oks) {
			c.mu.Unlock()
			return false
		}
	}
	c.openLocked(err, retryAfter, now)
	return true
}

// openLocked opens the closed circuit because of err, its first probe due
// after the probe interval or retryAfter, and calls the Opened hook. It is
// called with c.mu held and returns with it released.
func (c *Circuit) openLocked(err error, retryAfter time.Duration, now time.Time) {
	c.open, c.opened, c.probes = true, now, 0
	c.isOpen.Store(true)
	c.probeEvery = c.cfg.ProbeInitial
	c.probeAt = now.Add(c.wait(retryAfter))
	c.mu.Unlock()
	if c.hooks.Opened != nil {
		c.hooks.Opened(err)
	}
}

// wait is the pause before the next probe: the probe interval, or the
// downstream's Retry-After within the probe bounds. c.mu is held.
func (c *Circuit) wait(retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(max(retryAfter, c.cfg.ProbeInitial), c.cfg.ProbeMax)
	}
	return c.probeEvery
}

// Probe asks to send one record through the open circuit. ok is true when
// it may go now (the caller then reports its outcome with ProbeDone);
// otherwise wait is how long until it may ask again. A closed circuit lets
// every record go (ok, and no ProbeDone is due).
func (c *Circuit) Probe() (ok bool, wait time.Duration) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open {
		return true, 0
	}
	// A probe whose partition went away before it came back does not
	// hold the circuit shut: after twice the longest wait another goes.
	if c.probing && now.Sub(c.probeStarted) < 2*c.cfg.ProbeMax {
		return false, c.cfg.ProbeInitial
	}
	if d := c.probeAt.Sub(now); d > 0 {
		return false, d
	}
	c.probing, c.probeStarted = true, now
	c.probes++
	return true, 0
}

// ProbeDone reports a probe's outcome: nil (the record was handled) or a
// permanent error (the downstream answered, the record is bad) close the
// circuit; another error keeps it open and doubles the wait before the
// next probe (or waits as the downstream's Retry-After asks).
func (c *Circuit) ProbeDone(err error) {
	now := c.now()
	c.mu.Lock()
	if !c.open {
		c.mu.Unlock()
		return
	}
	c.probing = false
	if err != nil && Decide(err) != Permanent {
		retryAfter, _ := IsUnavailable(err)
		c.probeEvery = min(2*c.probeEvery, c.cfg.ProbeMax)
		c.probeAt = now.Add(c.wait(retryAfter))
		c.mu.Unlock()
		return
	}
	c.open = false
	c.isOpen.Store(false)
	d, probes := now.Sub(c.opened), c.probes
	clear(c.buckets) // the failures before belong to the outage
	waiters := make([]func(), 0, len(c.waiters))
	for _, fn := range c.waiters {
		waiters = append(waiters, fn)
	}
	c.mu.Unlock()
	if c.hooks.Closed != nil {
		c.hooks.Closed(d, probes)
	}
	for _, fn := range waiters {
		fn()
	}
}

// Release gives back a probe that Probe let go but that was never sent or
// will never report (its partition stopped): another may go at once.
func (c *Circuit) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.probing {
		c.probing = false
		c.probes--
	}
}

// OpenOn opens the circuit at once if err is marked unavailable, for the
// handler actor that saw it: the records after it in the same run then
// stop before they fail too. The partition actor's Failed for the same
// attempt follows and finds the circuit open.
func (c *Circuit) OpenOn(err error) {
	retryAfter, ok := IsUnavailable(err)
	if !ok || c.isOpen.Load() {
		return
	}
	c.mu.Lock()
	if c.open {
		c.mu.Unlock()
		return
	}
	c.openLocked(err, retryAfter, c.now())
}
