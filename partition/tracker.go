package partition

// tracker holds a partition's records in arrival (offset) order and finds
// the contiguous finished prefix: the only offsets that may be committed.
type tracker struct {
	q    []*rec
	head int
}

func (t *tracker) push(r *rec) { t.q = append(t.q, r) }

// len is the number of records not yet popped as finished.
func (t *tracker) len() int { return len(t.q) - t.head }

// advance pops the finished prefix and returns how many records it popped
// and the last popped record (nil when none).
func (t *tracker) advance() (n int, last *rec) {
	for t.head < len(t.q) && t.q[t.head].finished {
		last = t.q[t.head]
		t.q[t.head] = nil
		t.head++
		n++
	}
	// Reuse the backing array once the dead prefix dominates.
	if t.head > 1024 && t.head*2 >= len(t.q) {
		m := copy(t.q, t.q[t.head:])
		clear(t.q[m:])
		t.q = t.q[:m]
		t.head = 0
	} else if t.head == len(t.q) {
		t.q = t.q[:0]
		t.head = 0
	}
	return n, last
}
