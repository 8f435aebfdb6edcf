package config

import (
	"time"

	"github.com/actord/actord/supervisor"
)

// Circuit is consumers[].circuit, the consumer's circuit breaker: on by
// default; absent fields take the supervisor.Default* values.
type Circuit struct {
	// Enabled false turns the circuit breaker off. Default true.
	Enabled *bool `mapstructure:"enabled"`
	// FailureRatio is the share of failed attempts within Window at or
	// above which the circuit opens (with MinFailures records failing).
	FailureRatio float64 `mapstructure:"failure_ratio"`
	// MinFailures is how many distinct records must fail within Window.
	MinFailures int `mapstructure:"min_failures"`
	// Window is how far back failures count.
	Window time.Duration `mapstructure:"window"`
	// ProbeInterval bounds the wait between probes while open.
	ProbeInterval ProbeInterval `mapstructure:"probe_interval"`
}

// ProbeInterval is consumers[].circuit.probe_interval.
type ProbeInterval struct {
	Initial time.Duration `mapstructure:"initial"`
	Max     time.Duration `mapstructure:"max"`
}

// Off reports whether the circuit breaker is turned off.
func (c Circuit) Off() bool { return c.Enabled != nil && !*c.Enabled }

// Settings is the circuit's tuning for the library (zero fields: the
// defaults).
func (c Circuit) Settings() supervisor.CircuitConfig {
	return supervisor.CircuitConfig{FailureRatio: c.FailureRatio, MinFailures: c.MinFailures, Window: c.Window,
		ProbeInitial: c.ProbeInterval.Initial, ProbeMax: c.ProbeInterval.Max}
}

func (c Circuit) check(ck *checker, key string) {
	if c.Off() {
		if c.Settings() != (supervisor.CircuitConfig{}) {
			ck.add(key, "tuned while circuit.enabled is false (it would be ignored)")
		}
		return
	}
	if c.FailureRatio < 0 || c.FailureRatio > 1 {
		ck.add(key+".failure_ratio", "must be above 0 and at most 1, got %v", c.FailureRatio)
	}
	if c.MinFailures < 0 {
		ck.add(key+".min_failures", "must be at least 1, got %d", c.MinFailures)
	}
	if c.Window != 0 && (c.Window < time.Second || c.Window > time.Hour) {
		ck.add(key+".window", "must be between 1s and 1h, got %s", c.Window)
	}
	p := c.ProbeInterval
	if p.Initial < 0 || p.Initial != 0 && p.Initial < time.Millisecond {
		ck.add(key+".probe_interval.initial", "must be at least 1ms, got %s", p.Initial)
	}
	if p.Max < 0 || p.Max > time.Hour {
		ck.add(key+".probe_interval.max", "must be at most 1h, got %s", p.Max)
	}
	if p.Initial > 0 && p.Max > 0 && p.Max < p.Initial {
		ck.add(key+".probe_interval.max", "%s is less than probe_interval.initial %s", p.Max, p.Initial)
	}
	if p.Max == 0 && p.Initial > supervisor.DefaultProbeMax {
		ck.add(key+".probe_interval.initial", "%s is more than the default probe_interval.max %s: set max too", p.Initial, supervisor.DefaultProbeMax)
	}
}
