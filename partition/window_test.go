package partition_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
)

// While one record holds the finished prefix back (a slow key, a record on
// its retries), the others run only up to MaxInFlight records past it:
// what is handled but not committable, and so re-delivered after a crash,
// stays within the cap however far the fetched records reach. Once the
// slow record finishes, the rest runs and the mark reaches the end.
func TestWindowBoundsRecordsHandledPastThePrefix(t *testing.T) {
	const n, maxInFlight, keys = 2000, 100, 50
	// What may run while offset 0 holds: the offsets below the window
	// (1 to maxInFlight-1), less, in key mode, those of offset 0's key.
	want := map[string]int{
		"partition": 0,
		"key":       maxInFlight - 1 - (maxInFlight-1)/keys,
		"unordered": maxInFlight - 1,
	}
	eachMode(t, func(t *testing.T, m mode) {
		gate, open := newGate(t)
		running := make(chan struct{})
		var (
			mu      sync.Mutex
			handled = map[int64]int{}
			past    []int64 // offsets run past the window while 0 held
			zero    bool    // offset 0 has finished
		)
		count := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(handled)
		}
		r := start(t, partition.Config{
			Ordering: m.ordering, Concurrency: m.concurrency, MaxInFlight: maxInFlight,
			Handle: func(_ context.Context, rec *kgo.Record, _ int) error {
				if rec.Offset == 0 {
					close(running)
					<-gate
				}
				mu.Lock()
				defer mu.Unlock()
				if rec.Offset == 0 {
					zero = true
				} else if !zero && rec.Offset >= maxInFlight {
					past = append(past, rec.Offset)
				}
				handled[rec.Offset]++
				return nil
			},
		})
		// Offset 0 runs alone, then one fetch far larger than the cap comes.
		recs := records(n, keys)
		r.h.Deliver(recs[:1])
		<-running
		r.h.Deliver(recs[1:])
		waitFor(t, "the records inside the window to be handled", func() bool { return count() >= want[m.name] })
		// Nothing more runs while offset 0 holds: watch for a while.
		for deadline := time.Now().Add(100 * time.Millisecond); time.Now().Before(deadline); {
			if got := count(); got > want[m.name] {
				break
			}
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		if got := len(handled); got != want[m.name] || len(past) > 0 {
			t.Errorf("handled %d records while offset 0 held the prefix, want %d (the window of %d); past it: %d, first %v",
				got, want[m.name], maxInFlight, len(past), past[:min(len(past), 5)])
		}
		mu.Unlock()

		open()
		waitFor(t, "the mark to reach the end", func() bool { return r.markedTo(n) })
		mu.Lock()
		defer mu.Unlock()
		for off := range int64(n) {
			if handled[off] != 1 {
				t.Fatalf("offset %d handled %d times, want once", off, handled[off])
			}
		}
	})
}
