package mailbox

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A Loop runs what is scheduled, in order, on one goroutine
// that ends when it is closed or its context ends; after that, scheduled
// functions still run.
func TestLoop(t *testing.T) {
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	d := NewLoop(ctx)
	var ran atomic.Int64
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		d.Schedule(func() {
			if got := ran.Add(1); got != int64(i+1) {
				t.Errorf("function %d ran as %d", i+1, got)
			}
			wg.Done()
		})
		wg.Wait() // the mailbox schedules one at a time
	}
	cancel()
	waitGoroutines(t, base)
	wg.Add(1)
	d.Schedule(func() { wg.Done() })
	wg.Wait()

	d = NewLoop(context.Background())
	wg.Add(1)
	d.Schedule(func() { d.Close(); wg.Done() })
	wg.Wait()
	waitGoroutines(t, base)
	wg.Add(1)
	d.Schedule(func() { wg.Done() })
	wg.Wait()
}

// A Loop nobody closes lets its goroutine end after IdleExit without
// work, and runs what is scheduled after that on a new one.
func TestLoopIdleExit(t *testing.T) {
	base := runtime.NumGoroutine()
	d := NewLoop(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	d.Schedule(func() { wg.Done() })
	wg.Wait()
	if runtime.NumGoroutine() <= base {
		t.Fatalf("no goroutine kept for the loop")
	}
	waitGoroutines(t, base) // within 5 s: IdleExit is 1 s
	for range 3 {
		wg.Add(1)
		d.Schedule(func() { wg.Done() })
		wg.Wait()
	}
	waitGoroutines(t, base)
}

func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want %d: the dispatcher's did not end", runtime.NumGoroutine(), n)
		}
		time.Sleep(time.Millisecond) // polling the goroutine count
	}
}
