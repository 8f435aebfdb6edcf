package partition

import (
	"math/rand/v2"
	"testing"
)

// The held lanes come off the heap in the order of their next record,
// however they went on.
func TestHeldLanesPopInSequenceOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h heldLanes
	var last int64 = -1
	pushed, popped := 0, 0
	for step := 0; step < 5000; step++ {
		if len(h) == 0 || r.IntN(3) > 0 {
			seq := last + 1 + r.Int64N(1000) // never below what was popped: the window only grows
			h.push(&lane{q: []entry{{seq: seq}}})
			pushed++
			continue
		}
		l := h.pop()
		popped++
		if s := l.q[0].seq; s < last {
			t.Fatalf("popped %d after %d", s, last)
		} else {
			last = s
		}
		for i := range h {
			if h.key(i) < last {
				t.Fatalf("lane %d left with %d below the popped %d", i, h.key(i), last)
			}
		}
	}
	if pushed-popped != len(h) {
		t.Fatalf("pushed %d, popped %d, %d left", pushed, popped, len(h))
	}
}
