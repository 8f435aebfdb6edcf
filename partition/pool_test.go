package partition_test

import (
	"testing"

	"github.com/actord/actord/partition"
)

// A slice given back serves a later request it is large enough for, and
// never one it is too small for.
func TestRecordPoolServesWhatFits(t *testing.T) {
	var p partition.RecordPool
	for _, n := range []int{1, 3, 100, 1000, 4096, 5000} {
		s := p.GetRecords(n)
		if cap(s) < n || len(s) != 0 {
			t.Fatalf("GetRecords(%d): len %d cap %d", n, len(s), cap(s))
		}
		p.PutRecords(s[:cap(s)])
		// Whether the pool kept the slice or not, every request gets
		// room for what it asked.
		again := p.GetRecords(n)
		if cap(again) < n {
			t.Fatalf("GetRecords(%d) after a put: cap %d", n, cap(again))
		}
		bigger := p.GetRecords(cap(s) + 1)
		if cap(bigger) < cap(s)+1 {
			t.Fatalf("GetRecords(%d): cap %d", cap(s)+1, cap(bigger))
		}
	}
	if gets, puts := p.Counts(); gets != 18 || puts != 6 {
		t.Errorf("counts %d gets, %d puts; want 18, 6", gets, puts)
	}
}
