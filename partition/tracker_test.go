package partition

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Only the contiguous finished prefix advances, whatever order records
// finish in.
func TestTrackerCommitsOnlyTheContiguousPrefix(t *testing.T) {
	var tr tracker
	seqs := make([]int64, 10)
	for i := range seqs {
		seqs[i] = tr.push(&kgo.Record{Offset: int64(100 + i*2), LeaderEpoch: int32(i / 5)}) // gaps, as after compaction
	}
	steps := []struct {
		finish    []int
		wantN     int
		wantNext  int64 // offset after the last popped, -1 none
		wantEpoch int32
	}{
		{[]int{1, 2}, 0, -1, 0},
		{[]int{0}, 3, 105, 0},
		{[]int{9, 5, 4}, 0, -1, 0},
		{[]int{3}, 3, 111, 1},
		{[]int{6, 7, 8}, 4, 119, 1},
	}
	for i, s := range steps {
		for _, f := range s.finish {
			tr.finish(seqs[f])
		}
		n, epoch, last := tr.advance()
		next := int64(-1)
		if n > 0 {
			next = last + 1
		}
		if n != s.wantN || next != s.wantNext || (n > 0 && epoch != s.wantEpoch) {
			t.Fatalf("step %d: advanced %d to %d (epoch %d), want %d to %d (epoch %d)", i, n, next, epoch, s.wantN, s.wantNext, s.wantEpoch)
		}
	}
	if tr.len() != 0 {
		t.Fatalf("%d records left", tr.len())
	}
}

// Sequence numbers stay valid when the tracker moves its live records to
// the front of its arrays.
func TestTrackerKeepsSequencesAcrossCompaction(t *testing.T) {
	var tr tracker
	seqs := make([]int64, 3000)
	for i := range seqs {
		seqs[i] = tr.push(&kgo.Record{Offset: int64(i)})
	}
	for _, s := range seqs[:2000] {
		tr.finish(s)
	}
	if n, _, last := tr.advance(); n != 2000 || last != 1999 {
		t.Fatalf("advanced %d to %d, want 2000 to 1999", n, last)
	}
	if tr.head != 0 {
		t.Fatalf("head %d: the arrays were not compacted", tr.head)
	}
	more := tr.push(&kgo.Record{Offset: 3000})
	tr.finish(seqs[2500]) // out of order
	if n, _, _ := tr.advance(); n != 0 {
		t.Fatalf("advanced %d past offset 2000, unfinished", n)
	}
	for _, s := range seqs[2000:] {
		tr.finish(s)
	}
	tr.finish(more)
	if n, _, last := tr.advance(); n != 1001 || last != 3000 {
		t.Fatalf("advanced %d to %d, want 1001 to 3000", n, last)
	}
}

func BenchmarkTracker(b *testing.B) {
	var tr tracker
	r := &kgo.Record{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Offset = int64(i)
		tr.finish(tr.push(r))
		tr.advance()
	}
}
