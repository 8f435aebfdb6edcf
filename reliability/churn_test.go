package reliability

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// churnRun is one `actord start` process: one slot's life from start to
// stop, with its own log file.
type churnRun struct {
	name     string
	clientID string
	http     string // its /readyz
	proc     *process
	log      *logReader
	started  time.Time
	killed   bool
	// atKill are the committed offsets read once a killed run was gone.
	atKill map[int32]int64
}

// TestRebalanceChurn: three slots of `actord start` processes of one
// group (key ordering) are started and stopped at random, with SIGTERM and
// SIGKILL, while a stream of keyed records is produced. No record is lost
// and every partition is committed to its end; within each process's run
// every key's records are handled in order, each once; every record a
// killed process handled past its last commit is handled again by the
// next owner. ACTORD_SEED repeats a schedule.
func TestRebalanceChurn(t *testing.T) {
	t.Parallel()
	n := pick(20_000, 100_000)
	const rate = 2_000 // records a second: a 10 s (quick) or 50 s (long) stream
	actions := pick(10, 40)
	kills := pick(1, 5)
	const (
		topic, group = "events", "churn"
		partitions   = 6
		keys         = 60
		slots        = 3
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ACTORD_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ACTORD_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (ACTORD_SEED=%d repeats this schedule)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	b := actortest.Broker(t, actortest.NoAutoCreate())
	capSessionTimeout(b, 6*time.Second)
	addr := b.Addr()
	createTopic(t, addr, topic, partitions)
	dir := t.TempDir()

	var runs []*churnRun
	live := make([]*churnRun, slots)
	start := func(slot int) {
		r := &churnRun{name: fmt.Sprintf("slot %d run %d", slot, len(runs)+1), started: time.Now(), http: freeAddr(t),
			clientID: fmt.Sprintf("slot%d-run%d", slot, len(runs)+1)}
		base := filepath.Join(dir, fmt.Sprintf("run%02d-slot%d", len(runs)+1, slot))
		cc := consumerConfig{addr: addr, clientID: r.clientID, httpListen: r.http, topic: topic, group: group, ordering: "key",
			maxInFlight: 500, commitInterval: 100 * time.Millisecond, logFile: base + ".jsonl"}
		r.proc = startActord(t, r.name, "start", "--config", cc.write(t, base+".yaml"))
		r.log = newLogReader(cc.logFile)
		runs = append(runs, r)
		live[slot] = r
	}
	// handled reads what every run has written since the last call into
	// ta and returns the handlings so far.
	ta := newTally()
	total := 0
	handled := func() int {
		for _, r := range runs {
			before := len(r.log.recs)
			recs := r.log.read(t)
			ta.add(recs[before:])
			total += len(recs) - before
		}
		return total
	}

	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, r := range runs {
			if e := r.proc.stderr.String(); e != "" {
				t.Logf("%s (%s) stderr:\n%s", r.name, r.log.path, e)
			}
		}
	})
	start(0)
	start(1)
	waitStable(t, addr, group, 2, time.Minute)
	s := startStream(t, addr, topic, n, rate, func(i int) (string, string) {
		k := fmt.Sprintf("k%02d", i%keys)
		return k, k + ":" + strconv.Itoa(i/keys)
	})

	// The schedule: up to `actions` actions while the stream is sent, each
	// once the group has handled another slice of it. A stop is a SIGKILL
	// after 0 to 2 SIGTERMs (drawn anew after each kill) until `kills`
	// processes have been killed.
	var log []string
	stops, sigkills, termsBeforeKill := 0, 0, rng.IntN(3)
	stopOne := func(slot int, kill bool) {
		r := live[slot]
		live[slot] = nil
		stops++
		if kill {
			r.killed = true
			r.proc.kill(t)
			handled() // everything the killed run wrote
			r.atKill = stableCommitted(t, addr, group, topic, assignedTo(t, addr, group, topic, r.clientID))
			sigkills++
			termsBeforeKill = rng.IntN(3)
			log = append(log, "kill "+strconv.Itoa(slot))
			return
		}
		r.proc.stop(t, 60*time.Second)
		termsBeforeKill--
		log = append(log, "term "+strconv.Itoa(slot))
	}
	slice := rate / 2 // about half a second of the stream between actions
	for a := 0; a < actions && int(s.sent.Load()) < n; a++ {
		from := handled()
		step := slice/2 + rng.IntN(slice)
		eventually(t, 3*time.Minute, fmt.Sprintf("action %d: %d more records handled", a+1, step), func() bool {
			return handled() >= from+step || int(s.sent.Load()) == n
		})
		var running, stoppable, idle []int
		for i, r := range live {
			switch {
			case r == nil:
				idle = append(idle, i)
			case time.Since(r.started) > time.Second && ready(r.http):
				running = append(running, i)
				stoppable = append(stoppable, i)
			default:
				running = append(running, i)
			}
		}
		canStop, canStart := len(stoppable) > 0 && len(running) >= 2, len(idle) > 0
		var stop bool
		switch {
		case canStop && canStart:
			stop = rng.IntN(2) == 0
		case canStop:
			stop = true
		case !canStart:
			continue // every slot busy and none up long enough to stop yet
		}
		if !stop {
			slot := idle[rng.IntN(len(idle))]
			start(slot)
			log = append(log, "start "+strconv.Itoa(slot))
			continue
		}
		stopOne(stoppable[rng.IntN(len(stoppable))], sigkills < kills && termsBeforeKill <= 0)
	}
	if sigkills == 0 {
		// A schedule short of stops still kills one process: a second one
		// is started first when only one runs.
		var up []int
		for i, r := range live {
			if r != nil {
				up = append(up, i)
			}
		}
		if len(up) < 2 {
			for i := range live {
				if live[i] == nil {
					start(i)
					log = append(log, "start "+strconv.Itoa(i))
					up = append(up, i)
					break
				}
			}
		}
		for _, i := range up {
			eventually(t, time.Minute, live[i].name+" ready", func() bool { return ready(live[i].http) })
		}
		stopOne(up[rng.IntN(len(up))], true)
	}
	if live[0] == nil && live[1] == nil && live[2] == nil {
		start(0)
	}
	s.wait(t, 5*time.Minute)
	end := endOffsets(t, addr, topic)
	// Every record handled, and committed: the partitions of a killed
	// member have moved (once its session expired) and their records past
	// its last commit have been handled again.
	eventually(t, 3*time.Minute, "every record handled and committed", func() bool {
		handled()
		return len(ta.seen) >= n && maps.Equal(committed(t, addr, group, topic), end)
	})
	// Stop the survivors once each has joined (a process signalled while it
	// starts up just gives up).
	for _, r := range live {
		if r != nil {
			eventually(t, time.Minute, r.name+" ready", func() bool { return ready(r.http) })
			r.proc.stop(t, 60*time.Second)
		}
	}

	handled()
	f := figures{scenario: "churn", sent: n}
	rewound := 0
	for _, r := range runs {
		// A run that lost partitions (dropped by the broker) gets them
		// back from the last commit: its keys rewind there, legitimately.
		if strings.Contains(r.proc.stderr.String(), "partitions lost") {
			if err := keyOrder(r.log.recs); err != nil {
				rewound++
				t.Logf("%s lost partitions, then: %v", r.name, err)
			}
			continue
		}
		if err := keyOrder(r.log.recs); err != nil {
			t.Errorf("%s: %v", r.name, err)
		}
	}
	if missing := ta.fill(&f, end); len(missing) > 0 {
		t.Errorf("lost %d records:%s", len(missing), firstFew(missing))
	}

	// Where duplicates come from. A killed run's records past the commit
	// its partitions had when it died are all handled again: the next
	// owner resumes at that commit. A SIGTERM or a rebalance drains before
	// a partition moves: handlers finish the record they run and the
	// finished prefix is committed; in key ordering a record of one key
	// may have finished beyond a record of another key that was never
	// dispatched, and the next owner handles it again (at most
	// max_in_flight a partition).
	pastCommit, notAgain := 0, []po(nil)
	byGraceful := map[po][]*churnRun{}
	for _, r := range runs {
		for _, h := range r.log.recs {
			x := po{h.Partition, h.Offset}
			switch {
			case !r.killed:
				byGraceful[x] = append(byGraceful[x], r)
			case h.Offset >= r.atKill[h.Partition]:
				pastCommit++
				if ta.seen[x] < 2 {
					notAgain = append(notAgain, x)
				}
			}
		}
	}
	if len(notAgain) > 0 {
		t.Errorf("%d records a killed run handled past its commit were not handled again:%s", len(notAgain), firstFew(notAgain))
	}
	graceful := 0
	for x, rs := range byGraceful {
		if len(rs) < 2 {
			continue
		}
		graceful += len(rs) - 1
		logGap(t, x, rs)
	}
	// A member the broker dropped for missed heartbeats (a starved
	// machine) loses its partitions without committing: its records are
	// then, rightly, handled again too. The runs log it.
	lostEvents := 0
	for _, r := range runs {
		lostEvents += strings.Count(r.proc.stderr.String(), "partitions lost")
	}
	f.add("dup_after_kills", f.duplicated-graceful)
	f.add("dup_at_graceful_handovers", graceful)
	f.add("lost_partition_events", lostEvents)
	f.add("rewound_runs", rewound)
	f.add("processes", slots)
	f.add("runs", len(runs))
	f.add("sigterm", stops-sigkills)
	f.add("sigkill", sigkills)
	f.add("partitions", partitions)
	f.add("keys", keys)
	f.add("seed", seed)
	f.add("schedule", strings.Join(log, ","))
	f.report(t)
}

// checkKeyOrder checks that one run handled each key's records in order,
// each once.
func checkKeyOrder(t *testing.T, run string, recs []handledRecord) {
	t.Helper()
	if err := keyOrder(recs); err != nil {
		t.Errorf("%s: %v", run, err)
	}
}

// keyOrder returns the first record handled out of its key's order (values
// "key:seq", seq rising with the offset) or twice, nil when none is.
func keyOrder(recs []handledRecord) error {
	type last struct {
		p   int32
		off int64
		seq int
	}
	seen := map[string]last{}
	for i, h := range recs {
		k, s, ok := strings.Cut(h.Value, ":")
		seq, err := strconv.Atoi(s)
		if !ok || err != nil || k != h.Key {
			return fmt.Errorf("line %d: value %q of key %q", i+1, h.Value, h.Key)
		}
		if l, ok := seen[k]; ok && (h.Partition != l.p || h.Offset <= l.off || seq <= l.seq) {
			return fmt.Errorf("line %d: key %s: %d@%d (seq %d) after %d@%d (seq %d)", i+1, k, h.Partition, h.Offset, seq, l.p, l.off, l.seq)
		}
		seen[k] = last{h.Partition, h.Offset, seq}
	}
	return nil
}

// logGap logs a record handled by more than one run that was not killed,
// with the offsets just below it, on its partition, that each of them did
// not handle: the gap the commit of a graceful handover stopped at.
func logGap(t *testing.T, x po, rs []*churnRun) {
	t.Helper()
	var parts []string
	for _, r := range rs {
		had := map[int64]bool{}
		for _, h := range r.log.recs {
			if h.Partition == x.p {
				had[h.Offset] = true
			}
		}
		var gaps []string
		for o := max(0, x.o-16); o < x.o; o++ {
			if !had[o] {
				gaps = append(gaps, strconv.FormatInt(o, 10))
			}
		}
		parts = append(parts, fmt.Sprintf("%s (did not handle %s)", r.name, strings.Join(gaps, " ")))
	}
	t.Logf("%d@%d handled by %s", x.p, x.o, strings.Join(parts, " and "))
}
