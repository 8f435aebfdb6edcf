package partition

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tracker holds a partition's records in arrival (offset) order, by their
// sequence numbers, and finds the contiguous finished prefix: the only
// offsets that may be committed. It keeps no pointers (offsets, epochs
// and flags), so the garbage collector has nothing to scan in it.
type tracker struct {
	base   int64 // sequence number of the record at head
	head   int
	offs   []int64
	epochs []int32
	done   []bool
}

// grow makes room for n more records.
func (t *tracker) grow(n int) {
	t.offs = slices.Grow(t.offs, n)
	t.epochs = slices.Grow(t.epochs, n)
	t.done = slices.Grow(t.done, n)
}

// push adds r, the next record in offset order, and returns its sequence
// number.
func (t *tracker) push(r *kgo.Record) int64 {
	seq := t.base + int64(len(t.offs)-t.head)
	t.offs = append(t.offs, r.Offset)
	t.epochs = append(t.epochs, r.LeaderEpoch)
	t.done = append(t.done, false)
	return seq
}

// finish marks the record of sequence number seq finished.
func (t *tracker) finish(seq int64) { t.done[t.head+int(seq-t.base)] = true }

// len is the number of records not yet popped as finished.
func (t *tracker) len() int { return len(t.offs) - t.head }

// advance pops the finished prefix and returns how many records it popped
// and the leader epoch and offset of the last one (n == 0: none).
func (t *tracker) advance() (n int, epoch int32, last int64) {
	for t.head < len(t.offs) && t.done[t.head] {
		epoch, last = t.epochs[t.head], t.offs[t.head]
		t.head++
		n++
	}
	t.base += int64(n)
	// Reuse the backing arrays once the dead prefix dominates.
	if t.head == len(t.offs) {
		t.offs, t.epochs, t.done = t.offs[:0], t.epochs[:0], t.done[:0]
		t.head = 0
	} else if t.head > 1024 && t.head*2 >= len(t.offs) {
		m := copy(t.offs, t.offs[t.head:])
		copy(t.epochs, t.epochs[t.head:])
		copy(t.done, t.done[t.head:])
		t.offs, t.epochs, t.done = t.offs[:m], t.epochs[:m], t.done[:m]
		t.head = 0
	}
	return n, epoch, last
}
