package actors

import (
	"time"

	"github.com/actord/actord/supervisor"
)

// CircuitSettings tune a consumer's circuit breaker (WithCircuit); a zero
// field means its default: FailureRatio 0.5, MinFailures 5, Window 10s,
// ProbeInitial 1s, ProbeMax 30s (the supervisor.Default* constants).
type CircuitSettings = supervisor.CircuitConfig

// Every consumer has a circuit breaker, on by default. When its failures
// are the downstream's rather than the records' (an error marked
// Unavailable, or at least MinFailures distinct records failing at
// FailureRatio or more of the attempts within Window), the circuit opens:
// the consumer's partitions stop handling records but for one probe at a
// time (after ProbeInitial, doubling to ProbeMax, or as the downstream's
// Retry-After asks, within those), no failed attempt spends its record's
// retry budget, and nothing is dead-lettered for the outage. The first
// probe that succeeds (or fails permanently: the downstream answered)
// closes it, and every partition runs on from where it was. Records that
// fail alone while the downstream is healthy are retried and dead-lettered
// as always.

// WithCircuit tunes the consumer's circuit breaker; every non-zero field
// must be valid (supervisor.CircuitConfig.Validate).
func WithCircuit(s CircuitSettings) ConsumerOption {
	return consumerOpt(func(o *consumerOptions) {
		if err := s.Validate(); err != nil {
			o.bad("actors.WithCircuit: %v", err)
			return
		}
		o.circuit = s
	})
}

// NoCircuit turns the consumer's circuit breaker off: every failure spends
// its record's retry budget, as if the downstream were always up.
func NoCircuit() ConsumerOption {
	return consumerOpt(func(o *consumerOptions) { o.noCircuit = true })
}

// Unavailable marks err as the downstream being unavailable (not the
// record being bad): the attempt opens the consumer's circuit at once, and
// it does not spend the record's retry budget. The http handler marks 503,
// 429 and refused connections so, the exec handler exit code 69.
func Unavailable(err error) error { return supervisor.Unavailable(err, 0) }

// UnavailableFor is Unavailable with the downstream's wish to be left
// alone for d (an http Retry-After): the circuit's next probe waits d,
// within its probe interval's bounds.
func UnavailableFor(err error, d time.Duration) error { return supervisor.Unavailable(err, d) }

// newCircuit is the consumer's circuit breaker, logging and counting its
// openings and closings, nil when it is off.
func (c *consumer) newCircuit() *supervisor.Circuit {
	if c.opts.noCircuit {
		return nil
	}
	log := c.rt.log.With("topic", c.topic, "group", c.group)
	m := c.rt.metrics
	state := m.CircuitState.WithLabelValues(c.topic, c.group)
	opened, closed := m.CircuitOpened.WithLabelValues(c.topic, c.group), m.CircuitClosed.WithLabelValues(c.topic, c.group)
	var cb *supervisor.Circuit
	cb = supervisor.NewCircuit(c.opts.circuit, supervisor.CircuitHooks{
		Opened: func(err error) {
			state.Set(1)
			opened.Inc()
			cfg := cb.Config()
			log.Warn("circuit opened: the downstream looks unavailable; the consumer's records wait, one probe at a time, no retry budget spent",
				"error", err, "probe_initial", cfg.ProbeInitial.String(), "probe_max", cfg.ProbeMax.String())
		},
		Closed: func(d time.Duration, probes int) {
			state.Set(0)
			closed.Inc()
			log.Info("circuit closed: a probe succeeded; the consumer runs on", "open_for", d.Round(time.Millisecond).String(), "probes", probes)
		},
	})
	return cb
}
