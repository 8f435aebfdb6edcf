package partition

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Only the contiguous finished prefix advances, whatever order records
// finish in.
func TestTrackerCommitsOnlyTheContiguousPrefix(t *testing.T) {
	var tr tracker
	recs := make([]*rec, 10)
	for i := range recs {
		recs[i] = &rec{r: &kgo.Record{Offset: int64(100 + i*2)}} // gaps, as after compaction
		tr.push(recs[i])
	}
	steps := []struct {
		finish   []int
		wantN    int
		wantNext int64 // offset after the last popped, -1 none
	}{
		{[]int{1, 2}, 0, -1},
		{[]int{0}, 3, 105},
		{[]int{9, 5, 4}, 0, -1},
		{[]int{3}, 3, 111},
		{[]int{6, 7, 8}, 4, 119},
	}
	for i, s := range steps {
		for _, f := range s.finish {
			recs[f].finished = true
		}
		n, last := tr.advance()
		next := int64(-1)
		if last != nil {
			next = last.r.Offset + 1
		}
		if n != s.wantN || next != s.wantNext {
			t.Fatalf("step %d: advanced %d to %d, want %d to %d", i, n, next, s.wantN, s.wantNext)
		}
	}
	if tr.len() != 0 {
		t.Fatalf("%d records left", tr.len())
	}
}

func BenchmarkTracker(b *testing.B) {
	var tr tracker
	slab := make([]rec, 1024)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		x := &slab[i%len(slab)]
		*x = rec{r: &kgo.Record{Offset: int64(i)}}
		tr.push(x)
		x.finished = true
		tr.advance()
	}
}
