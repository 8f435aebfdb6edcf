package partition

import (
	"runtime"
	"testing"
	"time"
)

// Runs are split evenly among idle workers while the handlers' pace is
// not known yet; then they are about splitRun long: whole (up to the
// chunk) for fast handlers, a record each for slow ones, however few
// workers are idle.
func TestShareSplitsOnlyRunsWorthSplitting(t *testing.T) {
	a := &partitionActor{}
	cases := []struct {
		pace                     time.Duration
		ready, idle, chunk, most int
		want                     int
	}{
		{0, 1000, 16, 64, 0, 63},                   // pace unknown: an even share
		{0, 40, 16, 64, 0, 3},                      // pace unknown: spread
		{time.Millisecond, 40, 16, 64, 0, 1},       // slow: spread
		{time.Millisecond, 1000, 1, 256, 0, 1},     // slow, one worker back: one record, not a share for all
		{100 * time.Nanosecond, 40, 16, 64, 0, 40}, // fast: one run
		{100 * time.Nanosecond, 1000, 16, 64, 0, 64},
		{100 * time.Nanosecond, 40, 16, 64, 1, 1}, // a probe
		{10 * time.Microsecond, 40, 16, 64, 0, 5}, // 5 records make splitRun
		{0, 1, 16, 64, 0, 1},
	}
	for _, c := range cases {
		a.perRecord = c.pace
		if got := a.share(c.ready, c.idle, c.chunk, c.most); got != c.want {
			t.Errorf("share(%d ready, %d idle, chunk %d, most %d) at %v a record = %d, want %d",
				c.ready, c.idle, c.chunk, c.most, c.pace, got, c.want)
		}
	}
}

// One slow run sets the pace at once; fast runs bring it down slowly.
func TestPacedRisesAtOnceAndFallsSlowly(t *testing.T) {
	a := &partitionActor{}
	a.paced(&work{took: 64 * time.Microsecond, done: 64})
	if a.perRecord != time.Microsecond {
		t.Fatalf("pace %v after one run, want 1µs", a.perRecord)
	}
	a.paced(&work{took: 10 * time.Millisecond, done: 10})
	if a.perRecord != time.Millisecond {
		t.Fatalf("pace %v after a slow run, want 1ms", a.perRecord)
	}
	a.paced(&work{took: 100 * time.Nanosecond, done: 1})
	if a.perRecord < 800*time.Microsecond {
		t.Fatalf("pace %v after one fast run, want it still near 1ms", a.perRecord)
	}
	a.paced(&work{took: 0, done: 1}) // a run that panicked
	a.paced(&work{took: time.Second, done: 0})
	if a.perRecord < 800*time.Microsecond {
		t.Fatalf("pace %v changed by runs with no time or no records", a.perRecord)
	}
}

func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want %d: the dispatcher's did not end", runtime.NumGoroutine(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
