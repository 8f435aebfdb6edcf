package console

import (
	"math"
	"time"
)

// historyLength is how far back the charts reach.
const historyLength = 10 * time.Minute

// recentWindow is the window of Consumer.Recent.
const recentWindow = time.Minute

// Point is one sample of a consumer's chart series: the rates and latency
// quantiles between the previous sample and this one.
type Point struct {
	// T is the sample's time in Unix milliseconds.
	T int64 `json:"t"`
	// Seconds is the interval the point covers, since the sample before.
	Seconds               float64 `json:"seconds"`
	HandledPerSecond      float64 `json:"handled_per_second"`
	FailedPerSecond       float64 `json:"failed_per_second"`
	RetriedPerSecond      float64 `json:"retried_per_second"`
	DeadLetteredPerSecond float64 `json:"dead_lettered_per_second"`
	// P50Ms and P99Ms are -1 when no attempt ran between the samples.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	// Lag is the consumer's total lag over the partitions this process
	// owns, -1 when unknown.
	Lag int64 `json:"lag"`
}

// Series is one consumer's history: the document of each entry of GET
// /api/history.
type Series struct {
	Group  string  `json:"group"`
	Topic  string  `json:"topic"`
	Points []Point `json:"points"`
}

// sample is what the history keeps of one consumer at one time: its
// cumulative counters and histogram.
type sample struct {
	t      time.Time
	counts Counts
	hist   Histogram
	lag    int64
}

// series is one consumer's samples, oldest first, and the points derived
// from consecutive samples.
type series struct {
	samples []sample
	points  []Point
}

// add appends s, derives its point from the sample before it and forgets
// what is older than historyLength.
func (h *series) add(s sample) {
	if n := len(h.samples); n > 0 {
		h.points = append(h.points, point(h.samples[n-1], s))
	}
	h.samples = append(h.samples, s)
	cut := 0
	for cut < len(h.samples)-1 && s.t.Sub(h.samples[cut].t) > historyLength {
		cut++
	}
	if cut > 0 {
		h.samples = append(h.samples[:0], h.samples[cut:]...)
		h.points = append(h.points[:0], h.points[min(cut, len(h.points)):]...)
	}
}

// recent is the rates and quantiles between the oldest sample within
// recentWindow of the last one and the last one.
func (h *series) recent() Recent {
	n := len(h.samples)
	if n < 2 {
		return Recent{P50Ms: -1, P99Ms: -1}
	}
	last := h.samples[n-1]
	first := h.samples[n-2]
	for i := n - 2; i >= 0 && last.t.Sub(h.samples[i].t) <= recentWindow; i-- {
		first = h.samples[i]
	}
	p := point(first, last)
	return Recent{Seconds: last.t.Sub(first.t).Seconds(), HandledPerSecond: p.HandledPerSecond,
		FailedPerSecond: p.FailedPerSecond, RetriedPerSecond: p.RetriedPerSecond,
		DeadLetteredPerSecond: p.DeadLetteredPerSecond, P50Ms: p.P50Ms, P99Ms: p.P99Ms}
}

// point is the rates and quantiles from a to b.
func point(a, b sample) Point {
	dt := b.t.Sub(a.t).Seconds()
	rate := func(x, y uint64) float64 {
		if dt <= 0 || y < x {
			return 0
		}
		return float64(y-x) / dt
	}
	d := delta(a.hist, b.hist)
	return Point{T: b.t.UnixMilli(), Seconds: dt, Lag: b.lag,
		HandledPerSecond:      rate(a.counts.Handled, b.counts.Handled),
		FailedPerSecond:       rate(a.counts.Failed, b.counts.Failed),
		RetriedPerSecond:      rate(a.counts.Retried, b.counts.Retried),
		DeadLetteredPerSecond: rate(a.counts.DeadLettered, b.counts.DeadLettered),
		P50Ms:                 quantile(0.5, d) * 1000, P99Ms: quantile(0.99, d) * 1000}
}

// delta is b's bucket counts minus a's; a histogram with other bounds (or
// none) counts as empty.
func delta(a, b Histogram) Histogram {
	d := Histogram{Bounds: b.Bounds, Counts: make([]uint64, len(b.Counts))}
	same := len(a.Counts) == len(b.Counts)
	for i, c := range b.Counts {
		if same && a.Counts[i] <= c {
			c -= a.Counts[i]
		}
		d.Counts[i] = c
	}
	return d
}

// quantile estimates the q-quantile (0 < q < 1) in seconds from
// per-bucket counts as Prometheus' histogram_quantile does: linear
// interpolation within the bucket that holds it, the lowest bucket
// starting at 0; a quantile in the overflow bucket is the highest bound.
// It returns -1/1000 (so -1 in milliseconds) for an empty histogram.
func quantile(q float64, h Histogram) float64 {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 || len(h.Bounds) == 0 {
		return -0.001
	}
	rank := q * float64(total)
	var cum float64
	for i, c := range h.Counts {
		next := cum + float64(c)
		if next >= rank && c > 0 {
			if i >= len(h.Bounds) {
				return h.Bounds[len(h.Bounds)-1]
			}
			lower := 0.0
			if i > 0 {
				lower = h.Bounds[i-1]
			}
			return lower + (h.Bounds[i]-lower)*(rank-cum)/float64(c)
		}
		cum = next
	}
	return h.Bounds[len(h.Bounds)-1]
}

// round3 rounds x to three decimals, so the JSON stays short.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
