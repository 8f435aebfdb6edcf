package console

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	bounds := []float64{0.001, 0.01, 0.1}
	cases := []struct {
		name   string
		counts []uint64
		q      float64
		want   float64
	}{
		{"empty", []uint64{0, 0, 0, 0}, 0.5, -0.001},
		{"all in the first bucket, interpolated from 0", []uint64{10, 0, 0, 0}, 0.5, 0.0005},
		{"median in the second bucket", []uint64{4, 4, 2, 0}, 0.5, 0.001 + 0.009*(1.0/4)},
		{"p99 in the overflow bucket is the highest bound", []uint64{50, 0, 0, 50}, 0.99, 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := quantile(tc.q, Histogram{Bounds: bounds, Counts: tc.counts})
			if d := got - tc.want; d > 1e-12 || d < -1e-12 {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestSeriesRatesAndWindow: a point is the rate between two samples, the
// recent figures cover the last minute only, and samples older than the
// history's length are dropped.
func TestSeriesRatesAndWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := &series{}
	hist := func(n uint64) Histogram { return Histogram{Bounds: []float64{0.001}, Counts: []uint64{n, 0}} }
	h.add(sample{t: t0, counts: Counts{Handled: 0}, hist: hist(0)})
	h.add(sample{t: t0.Add(2 * time.Second), counts: Counts{Handled: 10}, hist: hist(10)})
	if p := h.points[0]; p.HandledPerSecond != 5 || p.Seconds != 2 || p.P50Ms != 0.5 {
		t.Errorf("point %+v, want 5/s over 2 s, p50 0.5 ms", p)
	}
	h.add(sample{t: t0.Add(2*time.Second + 2*time.Minute), counts: Counts{Handled: 10}, hist: hist(10)})
	if r := h.recent(); r.HandledPerSecond != 0 || r.P50Ms != -1 || r.Seconds != 120 {
		t.Errorf("recent %+v: the last window had nothing (and spans the gap to the sample before)", r)
	}
	last := t0.Add(2*time.Second + 2*time.Minute)
	for i := 1; i <= 40; i++ {
		h.add(sample{t: last.Add(time.Duration(i) * 30 * time.Second), counts: Counts{Handled: 10}, hist: hist(10)})
	}
	n := len(h.samples)
	if span := h.samples[n-1].t.Sub(h.samples[0].t); span > historyLength || n != int(historyLength/(30*time.Second))+1 || len(h.points) != n-1 {
		t.Errorf("%d samples over %v, %d points kept: want ten minutes of them and a point between each two", n, span, len(h.points))
	}
}

// TestStalled: a running partition with lag whose committed offset does
// not move for StallAfter is stalled; one that moves, has no lag or is
// paused is not.
func TestStalled(t *testing.T) {
	c := &Console{stalls: map[partKey]stall{}}
	k := partKey{"g", "t", 0}
	t0 := time.Unix(1000, 0)
	state := func(committed, lag int64, st string, at time.Duration) string {
		p := &Partition{Committed: committed, Lag: lag, State: st}
		c.markStall(k, p, t0.Add(at))
		return p.State
	}
	if s := state(5, 3, StateRunning, 0); s != StateRunning {
		t.Fatalf("first sight: %s", s)
	}
	if s := state(5, 3, StateRunning, StallAfter-time.Second); s != StateRunning {
		t.Fatalf("before StallAfter: %s", s)
	}
	if s := state(5, 3, StateRunning, StallAfter); s != StateStalled {
		t.Fatalf("at StallAfter: %s, want stalled", s)
	}
	if s := state(6, 2, StateRunning, StallAfter+time.Second); s != StateRunning {
		t.Fatalf("after the offset moved: %s", s)
	}
	if s := state(6, 2, StatePaused, 3*StallAfter); s != StatePaused {
		t.Fatalf("paused: %s", s)
	}
}
