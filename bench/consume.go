package bench

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"time"
)

// ConsumeResult is one side's run over a topic's records.
type ConsumeResult struct {
	Side    Side
	Records int
	// Span runs from the consumer's first fetch (the first handler start
	// where the broker is another process's) to the last handler end: the
	// group join before it is not counted.
	Span time.Duration
	// AllocsPerRecord and BytesPerRecord are the process's heap
	// allocations during the run divided by the records; the in-process
	// broker serving the fetches is included, the same on every side.
	AllocsPerRecord float64
	BytesPerRecord  float64
	// CPU is the whole process's CPU time (user and system) during the
	// run, broker included.
	CPU time.Duration
}

// Cores is the CPU time per wall second: how busy the run kept the
// machine.
func (r ConsumeResult) Cores() float64 { return r.CPU.Seconds() / r.Span.Seconds() }

// Rate is records per second.
func (r ConsumeResult) Rate() float64 { return float64(r.Records) / r.Span.Seconds() }

// ConsumeAll runs side under a fresh group over the n records in topic,
// calling work for each, and stops it once all n are handled.
func (e *Env) ConsumeAll(ctx context.Context, s Side, topic string, n int, work func()) (ConsumeResult, error) {
	want, err := e.Records(ctx, topic)
	if err != nil {
		return ConsumeResult{}, err
	}
	var total int64
	for _, w := range want {
		total += w
	}
	if total != int64(n) {
		return ConsumeResult{}, fmt.Errorf("%s holds %d records, want %d", topic, total, n)
	}
	t := NewTally(want)
	runtime.GC()
	e.armFetchClock()
	m0, b0 := allocs()
	cpu0 := cpuTime()
	c, err := e.StartConsumer(s, topic, e.Name("group"), func(p int32, _ []byte) {
		t.Begin()
		if work != nil {
			work()
		}
		t.Hit(p)
	})
	if err != nil {
		return ConsumeResult{}, fmt.Errorf("%s: %w", s.Name, err)
	}
	select {
	case <-t.Done():
	case <-ctx.Done():
		c.Stop()
		return ConsumeResult{}, fmt.Errorf("%s: %d of %d records handled: %w", s.Name, t.Count(), n, ctx.Err())
	}
	m1, b1 := allocs()
	cpu := cpuTime() - cpu0
	span := t.Span()
	if start := e.fetchClock(); !start.IsZero() {
		span = t.End().Sub(start)
	}
	if err := c.Stop(); err != nil {
		return ConsumeResult{}, fmt.Errorf("%s: stop: %w", s.Name, err)
	}
	return ConsumeResult{
		Side: s, Records: n, Span: span,
		AllocsPerRecord: float64(m1-m0) / float64(n),
		BytesPerRecord:  float64(b1-b0) / float64(n),
		CPU:             cpu,
	}, nil
}

// CompareConsumers runs every side over topic's n records rounds times,
// alternating the order of the sides between rounds, and keeps each side's
// fastest run.
func (e *Env) CompareConsumers(ctx context.Context, sides []Side, topic string, n, rounds int, work func()) ([]ConsumeResult, error) {
	best := make([]ConsumeResult, len(sides))
	err := alternate(len(sides), rounds, func(i int) error {
		r, err := e.ConsumeAll(ctx, sides[i], topic, n, work)
		if err != nil {
			return err
		}
		if best[i].Records == 0 || r.Span < best[i].Span {
			best[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return best, nil
}

// cpuTime is the process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
