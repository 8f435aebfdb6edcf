package reliability

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// TestExactlyOnceCrash: one `actord start` process runs two forward
// consumers of the same input stream, each in its own group: one with
// exactly_once: true, one without. It is killed with SIGKILL three times
// while both are mid-stream and started again each time; in the last run
// a second process joins the groups and leaves again, then the first runs
// to the end. A read_committed reader of the exactly-once output sees each input
// exactly once, each key's inputs in order; the at-least-once output of
// the very same run holds every input too, and the duplicates that
// exactly once avoids (what each killed run forwarded past its last
// commit).
func TestExactlyOnceCrash(t *testing.T) {
	t.Parallel()
	n := pick(12_000, 50_000)
	rate := pick(600, 1_500) // inputs a second: the kills land mid-stream
	const (
		in, eos, alo = "in", "out-eos", "out-alo"
		partitions   = 3
		keys         = 64
		kills        = 3
	)
	b := actortest.Broker(t, actortest.NoAutoCreate())
	capSessionTimeout(b, 6*time.Second)
	addr := b.Addr()
	for _, topic := range []string{in, eos, alo} {
		createTopic(t, addr, topic, partitions)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "actord.yaml")
	writeFile(t, cfg, fmt.Sprintf(`kafka: {bootstrap_servers: %s, transactional_id_prefix: reliability-}
log: {level: %s}
http: {listen: ''}
runtime: {commit_interval: 100ms, drain_timeout: 20s}
consumers:
  - topic: %s
    group: eos
    exactly_once: true
    handler: {forward: {topic: %s}}
  - topic: %s
    group: alo
    handler: {forward: {topic: %s}}
`, addr, logLevel(), in, eos, in, alo))

	sum := func(group string) int64 {
		var s int64
		for _, o := range committed(t, addr, group, in) {
			s += o
		}
		return s
	}
	start := time.Now()
	s := startStream(t, addr, in, n, rate, func(i int) (string, string) {
		return "k" + strconv.Itoa(i%keys), strconv.Itoa(i)
	})
	for run := 1; run <= kills; run++ {
		p := startActord(t, fmt.Sprintf("run %d", run), "start", "--config", cfg)
		defer func() {
			if t.Failed() {
				t.Logf("%s: committed eos %d, alo %d; stderr:\n%s", p.name, sum("eos"), sum("alo"), p.stderr.String())
			}
		}()
		// Both groups past the next quarter of the inputs, while the
		// stream goes on.
		at := int64(run * n / (kills + 1))
		eventually(t, 2*time.Minute, fmt.Sprintf("run %d: both groups to commit past %d", run, at), func() bool {
			return sum("eos") >= at && sum("alo") >= at
		})
		p.kill(t)
	}
	last := startActord(t, "last run", "start", "--config", cfg)
	// A second member joins mid-stream and leaves again: the partitions
	// move to it and back, each new owner fencing the last.
	joiner := startActord(t, "second member", "start", "--config", cfg)
	waitStable(t, addr, "eos", 2, time.Minute)
	waitStable(t, addr, "alo", 2, time.Minute)
	joiner.stop(t, time.Minute)
	s.wait(t, 5*time.Minute)
	actortest.WaitCommittedToEnd(t, actortest.At(addr), "eos", in)
	actortest.WaitCommittedToEnd(t, actortest.At(addr), "alo", in)
	last.stop(t, time.Minute)
	took := time.Since(start)

	exact := tallyOutputs(t, actortest.ReadCommitted(t, actortest.At(addr), eos), n, true)
	atLeast := tallyOutputs(t, actortest.ReadCommitted(t, actortest.At(addr), alo), n, false)
	exact.scenario, atLeast.scenario = "exactly-once-crash", "exactly-once-crash-off"
	for _, f := range []*figures{&exact, &atLeast} {
		f.add("kills", kills)
		f.add("second_member", "joined,left")
		f.add("partitions", partitions)
		f.add("took_s", strconv.FormatFloat(took.Seconds(), 'f', 1, 64))
		f.report(t)
		if f.lost != 0 {
			t.Errorf("%s: %d inputs lost", f.scenario, f.lost)
		}
	}
	if exact.duplicated != 0 {
		t.Errorf("exactly once: %d duplicated inputs in the read_committed output", exact.duplicated)
	}
	// The kills came mid-stream: the same run without exactly once wrote
	// what it forwarded past its last commit again.
	if atLeast.duplicated == 0 {
		t.Errorf("at least once: no duplicate after %d kills mid-stream; the scenario did not test what it claims", kills)
	}
}

// tallyOutputs counts the inputs 0..n-1 among the output records: how
// many appear, how many never do and how many extra times. With order it
// also requires each key's values in rising order (outputs of a key are
// on one partition, read in offset order).
func tallyOutputs(t *testing.T, outs []*kgo.Record, n int, order bool) figures {
	t.Helper()
	seen := make([]int, n)
	last := map[string]int{}
	for _, r := range outs {
		v, err := strconv.Atoi(string(r.Value))
		if err != nil || v < 0 || v >= n {
			t.Fatalf("output %q at %s/%d@%d is no input", r.Value, r.Topic, r.Partition, r.Offset)
		}
		seen[v]++
		if prev, ok := last[string(r.Key)]; order && ok && prev >= v {
			t.Errorf("%s: key %s: %d after %d: per-key order lost", r.Topic, r.Key, v, prev)
		}
		last[string(r.Key)] = v
	}
	f := figures{sent: n}
	for _, c := range seen {
		switch {
		case c == 0:
			f.lost++
		default:
			f.handled++
			f.duplicated += c - 1
		}
	}
	return f
}
