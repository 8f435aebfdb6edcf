package reliability

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// TestCrashSlowKey: the redelivery bound of key mode under SIGKILL. A
// backlog of keyed records (so that fetches are far larger than
// max_in_flight) is consumed in key mode by an `http` handler whose
// server holds one key's record unanswered: that record holds its
// partition's committed prefix back while the other keys run on. The
// process is SIGKILLed three times, each time once it has run all it may
// past the held record, and a fourth run finishes the stream (each run
// lets the slow key a few records further). Every record is handled at
// least once, each run keeps each key in order, and what a killed run
// handled past its partition's commit is at most max_in_flight - 1 records
// a partition (the commits having settled): the window of key mode.
func TestCrashSlowKey(t *testing.T) {
	t.Parallel()
	n := pick(6_000, 20_000)
	const (
		topic, group   = "slowkey", "processor"
		partitions     = 3
		keys           = 200
		slow           = "k0"
		maxInFlight    = 200
		commitInterval = 100 * time.Millisecond
		kills          = 3
	)
	b := actortest.Broker(t, actortest.NoAutoCreate())
	capSessionTimeout(b, 6*time.Second)
	addr := b.Addr()
	createTopic(t, addr, topic, partitions)

	recs := make([]*kgo.Record, n)
	for i := range recs {
		k := "k" + strconv.Itoa(i%keys)
		recs[i] = &kgo.Record{Key: []byte(k), Value: []byte(k + ":" + strconv.Itoa(i/keys))}
	}
	actortest.Produce(t, actortest.At(addr), topic, recs...) // sets each record's partition and offset
	end := endOffsets(t, addr, topic)
	var slowP int32
	var slowOffs []int64 // the slow key's offsets, in order
	for _, r := range recs {
		if string(r.Key) == slow {
			slowP = r.Partition
			slowOffs = append(slowOffs, r.Offset)
		}
	}
	isSlow := map[int64]bool{}
	for _, o := range slowOffs {
		isSlow[o] = true
	}

	srv := newHoldingServer(slow, slowP)
	dir := t.TempDir()
	var (
		all        []handledRecord
		duplicated int // what the killed runs handled past their commits
	)
	f := figures{scenario: "crash-slow-key", sent: n}
	for run := 1; run <= kills+1; run++ {
		name := fmt.Sprintf("run %d", run)
		holdAt := int64(-1) // the slow key's record this run holds: none in the last
		if run <= kills {
			holdAt = slowOffs[run*len(slowOffs)/(kills+2)]
		}
		srv.next(holdAt)
		cfg := filepath.Join(dir, fmt.Sprintf("run%d.yaml", run))
		writeFile(t, cfg, fmt.Sprintf(`kafka: {bootstrap_servers: %s}
log: {level: %s}
http: {listen: ''}
runtime: {max_in_flight: %d, commit_interval: %s, drain_timeout: 20s}
consumers:
  - topic: %s
    group: %s
    ordering: key
    concurrency: 16
    handler:
      http: {url: %q, timeout: 5m}
`, addr, logLevel(), maxInFlight, commitInterval, topic, group, srv.URL(t)))
		p := startActord(t, name, "start", "--config", cfg)
		if holdAt < 0 {
			actortest.WaitCommittedToEnd(t, actortest.At(addr), group, topic)
			p.stop(t, time.Minute)
			all = append(all, srv.handled()...)
			break
		}

		// The other partitions finish; the slow one commits up to the held
		// record (or to a record of another key packed behind it in the
		// same run of a handler actor), and the run handles what the window
		// allows past that and stops there.
		var c map[int32]int64
		defer func() {
			if t.Failed() {
				t.Logf("%s: committed %v, end %v, held %d@%d; stderr:\n%s", name, c, end, slowP, holdAt, p.stderr.String())
			}
		}()
		prev, since := -1, time.Now()
		eventually(t, 3*time.Minute, name+" to finish the other partitions and stop at the held record", func() bool {
			if p.exited() {
				t.Fatalf("%s exited: %v", name, p.err)
			}
			c = committed(t, addr, group, topic)
			for p, e := range end {
				if p != slowP && c[p] != e {
					return false
				}
			}
			k := len(srv.handled()) // zero until the run is assigned
			if k == 0 || k != prev {
				prev, since = k, time.Now()
				return false
			}
			return time.Since(since) >= 500*time.Millisecond
		})
		p.kill(t)
		mine := srv.handled()
		atKill := stableCommitted(t, addr, group, topic, nil)
		past := map[int32]int{}
		for _, h := range mine {
			if h.Offset >= atKill[h.Partition] {
				past[h.Partition]++
			}
		}
		for pt, k := range past {
			if k > maxInFlight-1 {
				t.Errorf("%s: handled %d records of partition %d past its commit at %d, want at most max_in_flight - 1 = %d",
					name, k, pt, atKill[pt], maxInFlight-1)
			}
		}
		if atKill[slowP] > holdAt {
			t.Errorf("%s: committed %d of partition %d past the held record at %d", name, atKill[slowP], slowP, holdAt)
		}
		// The window was used: the other keys ran past the commit (less
		// than the window when records of other keys were packed behind
		// the held one in its handler actor's run).
		if past[slowP] < maxInFlight/10 {
			t.Errorf("%s: handled %d records past the commit at %d, want at least %d: the other keys should run on", name, past[slowP], atKill[slowP], maxInFlight/10)
		}
		checkKeyOrder(t, name, mine)
		all = append(all, mine...)
		duplicated += past[slowP] + past[(slowP+1)%partitions] + past[(slowP+2)%partitions]
		f.add(fmt.Sprintf("run%d_past_commit", run), past[slowP])
	}

	ta := newTally()
	ta.add(all)
	if missing := ta.fill(&f, end); len(missing) > 0 {
		t.Errorf("lost %d records:%s", len(missing), firstFew(missing))
	}
	if f.duplicated != duplicated {
		t.Errorf("duplicated %d, want %d: the records the killed runs handled past their commits", f.duplicated, duplicated)
	}
	f.add("kills", kills)
	f.add("max_in_flight", maxInFlight)
	f.add("bound", kills*partitions*(maxInFlight-1))
	f.report(t)
}

// holdingServer is the `http` handler's downstream of TestCrashSlowKey:
// it answers every record 200 and notes it, except the slow key's record
// at the run's hold offset and after, which it leaves unanswered until the
// client goes away.
type holdingServer struct {
	srv  *httptest.Server
	key  string
	part int32

	mu     sync.Mutex
	holdAt int64
	recs   []handledRecord // this run's handled records, in answer order
}

func newHoldingServer(key string, part int32) *holdingServer {
	s := &holdingServer{key: key, part: part}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's address; the server closes at the test's end.
func (s *holdingServer) URL(t *testing.T) string {
	t.Cleanup(s.srv.Close)
	return s.srv.URL
}

// next starts a run that holds the slow key from offset holdAt (none when
// negative).
func (s *holdingServer) next(holdAt int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdAt, s.recs = holdAt, nil
}

func (s *holdingServer) handled() []handledRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

func (s *holdingServer) serve(w http.ResponseWriter, r *http.Request) {
	h, ok := postedRecord(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	hold := h.Key == s.key && h.Partition == s.part && s.holdAt >= 0 && h.Offset >= s.holdAt
	if !hold {
		s.recs = append(s.recs, h)
	}
	s.mu.Unlock()
	if hold {
		<-r.Context().Done() // the killed client's connection closes
		return
	}
	w.WriteHeader(http.StatusOK)
}

// postedRecord is the record an `http` handler POSTed in r (its value,
// and its partition, offset and key from the X-Actord-* headers), or a
// 400 answered and ok false.
func postedRecord(w http.ResponseWriter, r *http.Request) (h handledRecord, ok bool) {
	body, err := io.ReadAll(r.Body)
	p, perr := strconv.ParseInt(r.Header.Get("X-Actord-Partition"), 10, 32)
	o, oerr := strconv.ParseInt(r.Header.Get("X-Actord-Offset"), 10, 64)
	if err != nil || perr != nil || oerr != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return h, false
	}
	return handledRecord{Partition: int32(p), Offset: o, Key: r.Header.Get("X-Actord-Key"), Value: string(body)}, true
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
