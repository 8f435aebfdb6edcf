package reliability

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// TestCrash: an `actord start` process consuming a stream of keyed
// records (key ordering: keys of one partition run in parallel) is killed
// with SIGKILL once it has handled 30% of them, and started again. Every
// record is handled at least once; each run handles each key in order;
// the second run resumes each partition exactly at the offset the first
// run committed, below which the first run had handled every record; the
// only duplicates are the records the first run handled past that commit,
// and they stay under the bound stated below.
func TestCrash(t *testing.T) {
	t.Parallel()
	n := pick(10_000, 100_000)
	rate := pick(4_000, 10_000) // records a second the service produces
	const (
		topic, group   = "orders", "processor"
		partitions     = 3
		keys           = 64
		maxInFlight    = 500
		commitInterval = 100 * time.Millisecond
	)
	b := actortest.Broker(t, actortest.NoAutoCreate())
	capSessionTimeout(b, 6*time.Second)
	addr := b.Addr()
	createTopic(t, addr, topic, partitions)

	dir := t.TempDir()
	cc := consumerConfig{addr: addr, topic: topic, group: group, ordering: "key",
		maxInFlight: maxInFlight, commitInterval: commitInterval}

	// Run 1 joins, the stream starts, and run 1 is killed once it has
	// handled 30% of the records.
	cc.logFile = filepath.Join(dir, "run1.jsonl")
	p1 := startActord(t, "run 1", "start", "--config", cc.write(t, filepath.Join(dir, "run1.yaml")))
	waitStable(t, addr, group, 1, time.Minute)
	s := startStream(t, addr, topic, n, rate, func(i int) (string, string) {
		k := "k" + strconv.Itoa(i%keys)
		return k, k + ":" + strconv.Itoa(i/keys)
	})
	r1 := newLogReader(cc.logFile)
	var meter rateMeter
	eventually(t, 3*time.Minute, "run 1 to handle 30% of the records", func() bool {
		meter.sample(len(r1.read(t)))
		return len(r1.recs) > n*3/10
	})
	killedAt := time.Now()
	p1.kill(t)
	run1 := slices.Clone(r1.read(t))
	handleRate := meter.over(time.Second, killedAt, len(run1))
	atKill := stableCommitted(t, addr, group, topic, nil)

	// Run 2 goes on from the commit to the end of the stream.
	cc.logFile = filepath.Join(dir, "run2.jsonl")
	restarted := time.Now()
	p2 := startActord(t, "run 2", "start", "--config", cc.write(t, filepath.Join(dir, "run2.yaml")))
	s.wait(t, 5*time.Minute)
	end := endOffsets(t, addr, topic)
	r2 := newLogReader(cc.logFile)
	want := 0
	for p, e := range end {
		want += int(e - atKill[p])
	}
	covered, read := map[po]bool{}, 0
	eventually(t, 5*time.Minute, "run 2 to handle every record from the commit on", func() bool {
		recs := r2.read(t)
		for _, h := range recs[read:] {
			covered[po{h.Partition, h.Offset}] = true
		}
		read = len(recs)
		return countFrom(covered, atKill) >= want
	})
	took2 := time.Since(restarted)
	p2.stop(t, 60*time.Second)
	run2 := r2.read(t)

	f := figures{scenario: "crash", sent: n}
	ta := newTally()
	ta.add(run1)
	ta.add(run2)
	if missing := ta.fill(&f, end); len(missing) > 0 {
		t.Errorf("lost %d records:%s", len(missing), firstFew(missing))
	}
	checkKeyOrder(t, "run 1", run1)
	checkKeyOrder(t, "run 2", run2)

	// The commit covers only handled records, and run 2 resumes exactly
	// there: every duplicate is a record run 1 handled past its commit.
	in1 := map[po]bool{}
	for _, h := range run1 {
		in1[po{h.Partition, h.Offset}] = true
	}
	first2 := maps.Clone(end)
	for _, h := range run2 {
		first2[h.Partition] = min(first2[h.Partition], h.Offset)
	}
	pastCommit := 0
	for p := range end {
		if first2[p] != atKill[p] {
			t.Errorf("partition %d: run 2 started at offset %d, run 1 had committed %d", p, first2[p], atKill[p])
		}
		for o := range atKill[p] {
			if !in1[po{p, o}] {
				t.Errorf("partition %d: run 1 committed %d without handling offset %d", p, atKill[p], o)
				break
			}
		}
	}
	for x := range in1 {
		if x.o >= atKill[x.p] {
			pastCommit++
		}
	}
	if f.duplicated != pastCommit {
		t.Errorf("duplicated %d, want %d: the records run 1 handled past its commit", f.duplicated, pastCommit)
	}

	// The bound. A partition commits the contiguous prefix of finished
	// records. What run 1 handled past its last commit is (a) records
	// finished beyond that prefix while an earlier one (another key) was
	// still running: a record runs only within max_in_flight offsets of
	// the first unfinished one (the window), so at most max_in_flight - 1 a
	// partition; plus (b) the prefix marked since
	// the last commit that reached the broker: one commit interval, and one
	// more for the commit's round trip, at the rate run 1 was handling.
	bound := partitions*maxInFlight + int(handleRate*2*commitInterval.Seconds())
	f.add("partitions", partitions)
	f.add("max_in_flight", maxInFlight)
	f.add("commit_interval", commitInterval)
	f.add("killed_after", len(run1))
	f.add("rate_per_s", int(handleRate))
	f.add("cap_x_partitions", partitions*maxInFlight)
	f.add("bound", bound)
	f.add("run2_done_after_s", strconv.FormatFloat(took2.Seconds(), 'f', 1, 64))
	f.report(t)
	if f.duplicated > bound {
		t.Errorf("duplicated %d > bound %d", f.duplicated, bound)
	}
}

// stableCommitted returns the group's committed offsets once those of
// the partitions in watch (all when nil) have not moved for 200 ms: a
// commit a killed process sent just before it died may still be on its
// way through the broker. Partitions that live members own keep moving.
func stableCommitted(t *testing.T, addr, group, topic string, watch []int32) map[int32]int64 {
	t.Helper()
	same := func(a, b map[int32]int64) bool {
		if watch == nil {
			return maps.Equal(a, b)
		}
		for _, p := range watch {
			if a[p] != b[p] {
				return false
			}
		}
		return true
	}
	prev, since := committed(t, addr, group, topic), time.Now()
	eventually(t, 30*time.Second, "the committed offsets to settle", func() bool {
		cur := committed(t, addr, group, topic)
		if !same(cur, prev) {
			prev, since = cur, time.Now()
			return false
		}
		return time.Since(since) >= 200*time.Millisecond
	})
	return prev
}

// countFrom counts the places at or past from of their partition.
func countFrom(set map[po]bool, from map[int32]int64) int {
	n := 0
	for x := range set {
		if x.o >= from[x.p] {
			n++
		}
	}
	return n
}
