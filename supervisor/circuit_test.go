package supervisor

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// clock is a settable now for a circuit under test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newTestCircuit(cfg CircuitConfig) (*Circuit, *clock, *[]string) {
	ck := &clock{t: time.Unix(1_000_000, 0)}
	var events []string
	cb := NewCircuit(cfg, CircuitHooks{
		Opened: func(err error) { events = append(events, "opened: "+err.Error()) },
		Closed: func(d time.Duration, probes int) { events = append(events, "closed") },
	})
	cb.now = ck.now
	return cb, ck, &events
}

var errDown = errors.New("downstream says no")

func TestCircuitOpensAtOnceOnUnavailable(t *testing.T) {
	cb, ck, events := newTestCircuit(CircuitConfig{ProbeInitial: time.Second, ProbeMax: 8 * time.Second})
	if !cb.Failed(Unavailable(errDown, 0), 3) || !cb.Open() {
		t.Fatal("an unavailable error did not open the circuit")
	}
	if len(*events) != 1 {
		t.Fatalf("events %v, want one opening", *events)
	}
	// Every failure while open is the outage's, whatever it is.
	if !cb.Failed(errDown, 1) {
		t.Error("a failure while open was not the outage's")
	}
	// But a permanent one is the record's.
	if cb.Failed(PermanentError(errDown), 1) {
		t.Error("a permanent failure was counted as the outage's")
	}
	if ok, wait := cb.Probe(); ok || wait != time.Second {
		t.Fatalf("probe at once: %v, wait %v; want to wait 1s", ok, wait)
	}
	ck.add(time.Second)
	if ok, _ := cb.Probe(); !ok {
		t.Fatal("no probe after the initial wait")
	}
	if ok, _ := cb.Probe(); ok {
		t.Fatal("a second probe while one is out")
	}
	// Failed probes double the wait up to the max.
	for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		cb.ProbeDone(errDown)
		if _, wait := cb.Probe(); wait != want {
			t.Fatalf("wait after a failed probe %v, want %v", wait, want)
		}
		ck.add(want)
		if ok, _ := cb.Probe(); !ok {
			t.Fatalf("no probe after %v", want)
		}
	}
	// Retry-After is honoured within the bounds.
	cb.ProbeDone(Unavailable(errDown, 3*time.Second))
	if _, wait := cb.Probe(); wait != 3*time.Second {
		t.Fatalf("wait after Retry-After 3s: %v", wait)
	}
	ck.add(3 * time.Second)
	if ok, _ := cb.Probe(); !ok {
		t.Fatal("no probe after the Retry-After")
	}
	closed := 0
	unsub := cb.Subscribe(func() { closed++ })
	cb.ProbeDone(nil)
	if cb.Open() || closed != 1 || (*events)[len(*events)-1] != "closed" {
		t.Fatalf("a successful probe: open %v, woken %d, events %v", cb.Open(), closed, *events)
	}
	unsub()
	if ok, _ := cb.Probe(); !ok {
		t.Error("a closed circuit held a record")
	}
}

func TestCircuitOpensOnManyRecordsFailing(t *testing.T) {
	cb, ck, _ := newTestCircuit(CircuitConfig{MinFailures: 5, FailureRatio: 0.5, Window: 10 * time.Second})
	// One record failing over and over is the record's trouble.
	for attempt := 1; attempt <= 20; attempt++ {
		if cb.Failed(errDown, attempt) {
			t.Fatalf("one record's attempt %d opened the circuit", attempt)
		}
	}
	// Five records failing among many successes do not either.
	cb2, _, _ := newTestCircuit(CircuitConfig{MinFailures: 5, FailureRatio: 0.5, Window: 10 * time.Second})
	cb2.Succeeded(100)
	for range 5 {
		if cb2.Failed(errDown, 1) {
			t.Fatal("5 failures among 100 successes opened the circuit")
		}
	}
	// Five distinct records failing with nothing succeeding do; the old
	// failures are counted within the window only.
	ck.add(11 * time.Second)
	for i := 1; i <= 4; i++ {
		if cb.Failed(errDown, 1) {
			t.Fatalf("%d records failing opened the circuit (min 5; the 20 old attempts are out of the window)", i)
		}
	}
	if !cb.Failed(errDown, 1) {
		t.Fatal("5 records failing, nothing succeeding, did not open the circuit")
	}
	// A probe failing permanently closes it: the downstream answered.
	ck.add(time.Second)
	if ok, _ := cb.Probe(); !ok {
		t.Fatal("no probe")
	}
	cb.ProbeDone(PermanentError(errDown))
	if cb.Open() {
		t.Error("a probe the downstream answered (permanently) left the circuit open")
	}
}

func TestCircuitReleaseAndLostProbe(t *testing.T) {
	cb, ck, _ := newTestCircuit(CircuitConfig{ProbeInitial: time.Second, ProbeMax: 4 * time.Second})
	cb.Failed(Unavailable(errDown, 0), 1)
	ck.add(time.Second)
	if ok, _ := cb.Probe(); !ok {
		t.Fatal("no probe")
	}
	cb.Release()
	if ok, _ := cb.Probe(); !ok {
		t.Fatal("no probe after a release")
	}
	// A probe that never reports does not hold the circuit for good.
	if ok, _ := cb.Probe(); ok {
		t.Fatal("two probes out")
	}
	ck.add(8 * time.Second)
	if ok, _ := cb.Probe(); !ok {
		t.Fatal("a lost probe held the circuit past twice the max wait")
	}
}

func TestCircuitConfigValidate(t *testing.T) {
	if err := (CircuitConfig{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	want := CircuitConfig{FailureRatio: DefaultFailureRatio, MinFailures: DefaultMinFailures, Window: DefaultWindow,
		ProbeInitial: DefaultProbeInitial, ProbeMax: DefaultProbeMax}
	if got := (CircuitConfig{}).WithDefaults(); got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	for _, c := range []struct {
		cfg  CircuitConfig
		want string
	}{
		{CircuitConfig{FailureRatio: 1.5}, "failure_ratio"},
		{CircuitConfig{FailureRatio: -1}, "failure_ratio"},
		{CircuitConfig{MinFailures: -1}, "min_failures"},
		{CircuitConfig{Window: time.Millisecond}, "window"},
		{CircuitConfig{ProbeInitial: 10 * time.Second, ProbeMax: time.Second}, "probe_interval.max"},
		{CircuitConfig{ProbeMax: 2 * time.Hour}, "probe_interval.max"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
}
