package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DurationVec is the histogram actord_handler_duration_seconds, per topic
// and group, fed in batches. A prometheus.Histogram costs a few contended
// atomic operations per observation, more than a fast handler itself; here
// a batch of attempts is bucketed on the handler's goroutine and added with
// one atomic add per bucket, and the histogram is built at scrape time.
// What a scrape shows is the same as a prometheus.HistogramVec's with the
// same buckets.
type DurationVec struct {
	desc   *prometheus.Desc
	bounds []float64       // upper bounds in seconds, ascending
	ns     []time.Duration // the same bounds as durations

	mu   sync.Mutex
	sets map[[2]string]*Durations
}

// Durations is one topic and group's histogram.
type Durations struct {
	vec    *DurationVec
	labels [2]string
	// counts[i] counts durations in (bounds[i-1], bounds[i]]; the last
	// slot is above every bound.
	counts []atomic.Uint64
	sumNs  atomic.Int64
}

// maxBuckets bounds the buckets so that Observe can count on the stack.
const maxBuckets = 64

// NewDurationVec builds the histogram with buckets bounds (seconds,
// ascending, at most 64), labelled topic and group.
func NewDurationVec(name, help string, bounds []float64) *DurationVec {
	if len(bounds) > maxBuckets {
		panic("metrics: more than 64 histogram buckets")
	}
	v := &DurationVec{
		desc:   prometheus.NewDesc(name, help, []string{"topic", "group"}, nil),
		bounds: bounds,
		sets:   map[[2]string]*Durations{},
	}
	for _, b := range bounds {
		v.ns = append(v.ns, time.Duration(b*float64(time.Second)))
	}
	return v
}

// WithLabelValues returns the histogram of topic and group, created on
// first use.
func (v *DurationVec) WithLabelValues(topic, group string) *Durations {
	k := [2]string{topic, group}
	v.mu.Lock()
	defer v.mu.Unlock()
	d := v.sets[k]
	if d == nil {
		d = &Durations{vec: v, labels: k, counts: make([]atomic.Uint64, len(v.bounds)+1)}
		v.sets[k] = d
	}
	return d
}

// Observe adds a batch of durations.
func (d *Durations) Observe(ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	var local [maxBuckets + 1]uint64
	var sum time.Duration
	for _, x := range ds {
		sum += x
		local[d.vec.bucket(x)]++
	}
	for i, n := range local[:len(d.counts)] {
		if n > 0 {
			d.counts[i].Add(n)
		}
	}
	d.sumNs.Add(int64(sum))
}

// ObserveFast adds n durations, each at most each long, that took total
// together: they count in the bucket of each (exact when that is the
// lowest bucket) and add total to the sum.
func (d *Durations) ObserveFast(n int, total, each time.Duration) {
	if n <= 0 {
		return
	}
	d.counts[d.vec.bucket(each)].Add(uint64(n))
	d.sumNs.Add(int64(total))
}

// bucket is the index of the bucket that counts x: the first bound x does
// not exceed, or the overflow slot.
func (v *DurationVec) bucket(x time.Duration) int {
	i := 0
	for i < len(v.ns) && x > v.ns[i] {
		i++
	}
	return i
}

// Describe implements prometheus.Collector.
func (v *DurationVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect implements prometheus.Collector.
func (v *DurationVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	sets := make([]*Durations, 0, len(v.sets))
	for _, d := range v.sets {
		sets = append(sets, d)
	}
	v.mu.Unlock()
	for _, d := range sets {
		buckets := make(map[float64]uint64, len(v.bounds))
		var cum uint64
		for i, b := range v.bounds {
			cum += d.counts[i].Load()
			buckets[b] = cum
		}
		count := cum + d.counts[len(v.bounds)].Load()
		sum := time.Duration(d.sumNs.Load()).Seconds()
		ch <- prometheus.MustNewConstHistogram(v.desc, count, sum, buckets, d.labels[0], d.labels[1])
	}
}
