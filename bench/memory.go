package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"time"
)

// MemoryResult is a slow consumer's memory while it works through a
// backlog, measured in a process of its own so that the broker's copy of
// the backlog is not counted.
type MemoryResult struct {
	Name        string
	MaxInFlight int
	Handled     int64
	// BaselineRSS is the process's resident set before the consumer
	// starts; PeakRSS is its high-water mark (VmHWM) at the end.
	BaselineRSS uint64
	PeakRSS     uint64
	// PeakHeap is the largest sampled Go heap (objects, garbage
	// included); PeakLive is the largest heap the collector found live,
	// which is what the consumer holds.
	PeakHeap uint64
	PeakLive uint64
}

// Growth is how far the resident set grew past the baseline.
func (r MemoryResult) Growth() uint64 {
	if r.PeakRSS < r.BaselineRSS {
		return 0
	}
	return r.PeakRSS - r.BaselineRSS
}

// SlowConsumerMemory consumes topic with side s for d, each record taking
// work, sampling the heap every 10 ms, and reports the process's memory.
// It is meant for a child process: RSS figures are process-wide.
func (e *Env) SlowConsumerMemory(s Side, topic, group string, d time.Duration, work func()) (MemoryResult, error) {
	runtime.GC()
	base, err := statusBytes("VmRSS")
	if err != nil {
		return MemoryResult{}, err
	}
	var handled atomic.Int64
	c, err := e.StartConsumer(s, topic, group, func(int32, []byte) {
		work()
		handled.Add(1)
	})
	if err != nil {
		return MemoryResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	var peakHeap, peakLive uint64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		metrics.Read(sample)
		peakHeap = max(peakHeap, sample[0].Value.Uint64())
		peakLive = max(peakLive, sample[1].Value.Uint64())
	}
	peak, err := statusBytes("VmHWM")
	if err != nil {
		return MemoryResult{}, err
	}
	n := handled.Load()
	if err := c.Stop(); err != nil {
		return MemoryResult{}, err
	}
	return MemoryResult{Name: s.Name, MaxInFlight: s.MaxInFlight, Handled: n, BaselineRSS: base, PeakRSS: peak, PeakHeap: peakHeap, PeakLive: peakLive}, nil
}

// statusBytes reads a kB field of /proc/self/status.
func statusBytes(field string) (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || string(k) != field {
			continue
		}
		f := bytes.Fields(v)
		if len(f) == 0 {
			break
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/self/status %s: %w", field, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", field)
}
