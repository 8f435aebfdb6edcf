package metrics

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestDurationVecMatchesHistogram feeds the same durations, in batches
// from several goroutines, to a DurationVec and to client_golang's own
// histogram with the same buckets: the scraped count, sum and every
// cumulative bucket must be equal.
func TestDurationVecMatchesHistogram(t *testing.T) {
	bounds := prometheus.ExponentialBuckets(0.0005, 2, 16)
	vec := NewDurationVec("d_seconds", "test", bounds)
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ref_seconds", Buckets: bounds})
	// On the bounds, just above them, far above the last one, and zero.
	var all []time.Duration
	for _, b := range bounds {
		d := time.Duration(b * float64(time.Second))
		all = append(all, d, d+1, d-1)
	}
	all = append(all, 0, time.Hour, 3*time.Microsecond)
	d := vec.WithLabelValues("orders", "billing")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			batch := make([]time.Duration, 0, 7)
			for i := g; i < len(all); i += 4 {
				batch = append(batch, all[i])
				if len(batch) == cap(batch) {
					d.Observe(batch)
					batch = batch[:0]
				}
			}
			d.Observe(batch)
		})
	}
	wg.Wait()
	for _, x := range all {
		ref.Observe(x.Seconds())
	}
	// Ten attempts of 100 us timed as a group, each known to be at most
	// 250 us: the lowest bucket (500 us) counts them exactly.
	d.ObserveFast(10, time.Millisecond, 250*time.Microsecond)
	for range 10 {
		ref.Observe((100 * time.Microsecond).Seconds())
	}
	all = append(all, make([]time.Duration, 10)...)
	if vec.WithLabelValues("orders", "billing") != d {
		t.Fatal("WithLabelValues made a second histogram for the same labels")
	}

	got := collectOne(t, vec)
	want := collectOne(t, ref)
	h, w := got.GetHistogram(), want.GetHistogram()
	if h.GetSampleCount() != uint64(len(all)) || h.GetSampleCount() != w.GetSampleCount() {
		t.Fatalf("count %d, want %d", h.GetSampleCount(), w.GetSampleCount())
	}
	if math.Abs(h.GetSampleSum()-w.GetSampleSum()) > 1e-6 {
		t.Fatalf("sum %v, want %v", h.GetSampleSum(), w.GetSampleSum())
	}
	if len(h.GetBucket()) != len(w.GetBucket()) {
		t.Fatalf("%d buckets, want %d", len(h.GetBucket()), len(w.GetBucket()))
	}
	for i, b := range h.GetBucket() {
		wb := w.GetBucket()[i]
		if b.GetUpperBound() != wb.GetUpperBound() || b.GetCumulativeCount() != wb.GetCumulativeCount() {
			t.Errorf("bucket le=%v: %d, want le=%v: %d", b.GetUpperBound(), b.GetCumulativeCount(), wb.GetUpperBound(), wb.GetCumulativeCount())
		}
	}
	labels := map[string]string{}
	for _, l := range got.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["topic"] != "orders" || labels["group"] != "billing" {
		t.Fatalf("labels %v", labels)
	}
}

func collectOne(t *testing.T, c prometheus.Collector) *dto.Metric {
	t.Helper()
	ch := make(chan prometheus.Metric, 4)
	c.Collect(ch)
	close(ch)
	var out []*dto.Metric
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		out = append(out, &pb)
	}
	if len(out) != 1 {
		t.Fatalf("%d metrics collected, want 1", len(out))
	}
	return out[0]
}
