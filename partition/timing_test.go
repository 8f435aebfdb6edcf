package partition

import (
	"testing"
	"time"
)

// Fast attempts are counted in groups, each known to be under FastAttempt;
// a slow attempt among them is still reported on its own with (about) its
// own duration; nothing is counted twice or lost, and the total is the
// time the attempts took.
func TestTimingGroupsFastAttemptsAndTimesSlowOnes(t *testing.T) {
	var timed []time.Duration
	fast := 0
	var total time.Duration
	var tm timing
	report := func(ts []time.Duration, n int, sum time.Duration) {
		timed = append(timed, ts...)
		fast += n
		total += sum
	}
	const slow = 2 * time.Millisecond
	start := time.Now()
	tm.begin(report)
	for range 1000 {
		tm.lap()
	}
	for t0 := time.Now(); time.Since(t0) < slow; {
		// a handler busy for 2 ms
	}
	tm.lap()
	for range 1000 {
		tm.lap()
	}
	tm.end()
	wall := time.Since(start)

	if got := len(timed) + fast; got != 2001 {
		t.Fatalf("%d attempts reported (%d timed, %d fast), want 2001", got, len(timed), fast)
	}
	if fast <= len(timed) {
		t.Errorf("%d fast attempts in groups against %d timed one by one: no grouping", fast, len(timed))
	}
	if total > FastAttempt*time.Duration(fast) {
		t.Errorf("fast attempts took %v in all, more than %v each", total, FastAttempt)
	}
	var long int
	var sum time.Duration
	for _, d := range timed {
		sum += d
		if d >= slow {
			long++
		}
	}
	if long < 1 {
		t.Errorf("the 2 ms attempt is not among the timed ones: %v", timed)
	}
	if sum+total < slow || sum+total > wall {
		t.Errorf("durations add up to %v, want between %v and the %v it all took", sum+total, slow, wall)
	}

	// A new run starts from the clock, not from the end of the last one.
	timed, fast, total = nil, 0, 0
	time.Sleep(slow) // the handler actor idle between runs
	tm.begin(report)
	tm.lap()
	tm.end()
	if len(timed)+fast != 1 || total+sumOf(timed) >= slow {
		t.Errorf("an idle gap between runs was counted: %v timed, %d fast, %v", timed, fast, total)
	}
}

func sumOf(ds []time.Duration) (s time.Duration) {
	for _, d := range ds {
		s += d
	}
	return s
}
