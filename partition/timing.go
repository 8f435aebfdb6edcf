package partition

import "time"

// FastAttempt bounds the handler attempts that are timed in groups: a
// clock read costs 25-50 ns, as much as a fast handler itself, so attempts
// that together took at most FastAttempt are reported to Hooks.Attempts
// as a count and a total, each of them known to be at most FastAttempt
// long. Slower attempts are timed one by one.
const FastAttempt = 250 * time.Microsecond

const (
	// groupMax is the most attempts timed by one clock read.
	groupMax = 64
	// Durations go to Hooks.Attempts at least every timesBatch single
	// durations or timesEvery, and at the end of every run.
	timesBatch = 64
	timesEvery = 100 * time.Millisecond
)

// timing measures a handler actor's consecutive attempts on the monotonic
// clock (an attempt's end is the next one's start). It reads the clock
// after every attempt while attempts are slow, and after every group of
// up to groupMax attempts while they are fast, doubling the group while a
// group takes under FastAttempt/8 and going back to single attempts when
// one takes over FastAttempt/2.
type timing struct {
	report func(timed []time.Duration, fast int, fastTotal time.Duration)

	base          time.Time
	last, flushed time.Duration // clock at the last read and the last report
	group, n      int           // attempts per clock read; attempts since the last read
	mean          time.Duration // per attempt in the last group that was fast

	times     []time.Duration // single attempts not yet reported
	fast      int             // fast attempts not yet reported
	fastTotal time.Duration   // and their total
}

// begin starts timing a run of attempts.
func (t *timing) begin(report func([]time.Duration, int, time.Duration)) {
	t.report = report
	if t.base.IsZero() {
		t.base = time.Now()
		t.group = 1
	}
	t.last = time.Since(t.base)
	t.n = 0
}

// lap counts the attempt that just ended and reads the clock when its
// group is complete.
func (t *timing) lap() {
	t.n++
	if t.n >= t.group {
		t.read()
	}
}

// read closes the open group of attempts.
func (t *timing) read() {
	now := time.Since(t.base)
	el, n := now-t.last, t.n
	t.last, t.n = now, 0
	switch {
	case n == 1:
		t.times = append(t.times, el)
	case el <= FastAttempt:
		t.fast += n
		t.fastTotal += el
	default:
		// One slow attempt among fast ones (which one is not known): the
		// others are taken at the last fast group's pace, the rest of the
		// time is the slow one's.
		rest := min(time.Duration(n-1)*t.mean, el)
		t.fast += n - 1
		t.fastTotal += rest
		t.times = append(t.times, el-rest)
	}
	if n > 0 && el <= FastAttempt {
		t.mean = el / time.Duration(n)
	}
	switch {
	case el > FastAttempt/2:
		t.group = 1
	case el <= FastAttempt/8 && t.group < groupMax:
		t.group *= 2
	}
	if len(t.times) >= timesBatch || now-t.flushed >= timesEvery {
		t.flush(now)
	}
}

// end closes the open group and reports what is pending: a run is over.
func (t *timing) end() {
	if t.n > 0 {
		t.read()
	}
	t.flush(t.last)
}

func (t *timing) flush(now time.Duration) {
	if len(t.times) > 0 || t.fast > 0 {
		t.report(t.times, t.fast, t.fastTotal)
		t.times, t.fast, t.fastTotal = t.times[:0], 0, 0
	}
	t.flushed = now
}
