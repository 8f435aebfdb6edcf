package reliability

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// TestOutage: an `http` handler's downstream answers 503 with
// `Retry-After: 3` for a few seconds (10 in long mode) in the middle of a
// backlog, then 200 again; max_retries 3, backoff 100ms, the circuit
// breaker at its defaults. Before the circuit breaker, every record the
// consumer touched in the outage was dead-lettered (14 to 41 of 300 in
// partition mode, 300 of 300 in key mode, concurrency 16). Now: nothing is
// dead-lettered, nothing lost, each key's records are handled in order,
// the downstream sees only the requests in flight when the circuit opened
// and then one probe at a time, each at least 3 s (its Retry-After) after
// the last.
func TestOutage(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"partition", "key"} {
		t.Run(mode, func(t *testing.T) { outage(t, mode) })
	}
}

func outage(t *testing.T, ordering string) {
	n := pick(1_500, 5_000)
	down := pick(4*time.Second, 10*time.Second)
	const (
		partitions = 3
		keys       = 60
		concurrent = 16
		retryAfter = 3 * time.Second
	)
	topic, group := "outage-"+ordering, "outage-"+ordering
	b := actortest.Broker(t, actortest.NoAutoCreate())
	addr := b.Addr()
	createTopic(t, addr, topic, partitions)
	createTopic(t, addr, topic+".dlq", 1)
	srv := newOutageServer(retryAfter)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		k := "k" + strconv.Itoa(i%keys)
		recs[i] = &kgo.Record{Key: []byte(k), Value: []byte(k + ":" + strconv.Itoa(i/keys))}
	}
	actortest.Produce(t, actortest.At(addr), topic, recs...)
	end := endOffsets(t, addr, topic)

	cfg := filepath.Join(t.TempDir(), "outage.yaml")
	writeFile(t, cfg, fmt.Sprintf(`kafka: {bootstrap_servers: %s}
log: {level: %s}
http: {listen: ''}
runtime: {commit_interval: 100ms}
consumers:
  - topic: %s
    group: %s
    ordering: %s
    concurrency: %d
    max_retries: 3
    backoff: {initial: 100ms, max: 1s}
    handler:
      http: {url: %q, timeout: 10s}
`, addr, logLevel(), topic, group, ordering, concurrent, srv.URL(t)))
	p := startActord(t, "actord", "start", "--config", cfg)

	// The outage starts once a fifth of the records are handled, and
	// lasts `down` (the schedule, not a wait for something to happen).
	eventually(t, time.Minute, "a fifth of the records handled", func() bool { return srv.count() >= n/5 })
	srv.setDown(true)
	time.Sleep(down)
	srv.setDown(false)
	actortest.WaitCommittedToEnd(t, actortest.At(addr), group, topic)
	p.stop(t, time.Minute)

	handled := srv.handled()
	f := figures{scenario: "outage", sent: n}
	ta := newTally()
	ta.add(handled)
	if missing := ta.fill(&f, end); len(missing) > 0 {
		t.Errorf("lost %d records:%s", len(missing), firstFew(missing))
	}
	checkKeyOrder(t, "the run", handled)
	dead := deadLettered(t, addr, topic+".dlq")
	if dead != 0 {
		t.Errorf("%d records dead-lettered for a %v outage, want 0", dead, down)
	}

	// The requests the downstream refused: a burst of those in flight as
	// the circuit opened (at most one a handler actor), then probes, each
	// at least Retry-After after the one before.
	refused := srv.refusedAt()
	burst, probes := splitBurst(refused, 500*time.Millisecond)
	if max := partitions * concurrent; burst > max {
		t.Errorf("%d requests refused as the outage began, want at most %d (one a handler actor)", burst, max)
	}
	last := refused[burst-1]
	for i, at := range probes {
		if gap := at.Sub(last); gap < retryAfter-100*time.Millisecond {
			t.Errorf("probe %d came %v after the request before it, want at least the Retry-After %v", i+1, gap.Round(time.Millisecond), retryAfter)
		}
		last = at
	}
	if want := int(down/retryAfter) + 1; len(probes) > want {
		t.Errorf("%d probes in a %v outage, want at most %d (one every %v)", len(probes), down, want, retryAfter)
	}
	f.add("mode", ordering)
	f.add("outage", down)
	f.add("dead_lettered", dead)
	f.add("refused_at_opening", burst)
	f.add("probes", len(probes))
	f.report(t)
}

// splitBurst counts the times (in order) within d of the first, and
// returns the rest.
func splitBurst(ts []time.Time, d time.Duration) (int, []time.Time) {
	if len(ts) == 0 {
		return 0, nil
	}
	i := 1
	for i < len(ts) && ts[i].Sub(ts[0]) < d {
		i++
	}
	return i, ts[i:]
}

// deadLettered is the records in topic (a dead-letter topic).
func deadLettered(t *testing.T, addr, topic string) int {
	t.Helper()
	cl := newClient(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	n := 0
	ends.Each(func(o kadm.ListedOffset) { n += int(o.Offset) })
	return n
}

// outageServer is the downstream of TestOutage: 200 and noted, or, while
// down, 503 with a Retry-After.
type outageServer struct {
	srv        *httptest.Server
	retryAfter time.Duration
	down       atomic.Bool

	mu      sync.Mutex
	recs    []handledRecord
	refused []time.Time
}

func newOutageServer(retryAfter time.Duration) *outageServer {
	s := &outageServer{retryAfter: retryAfter}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *outageServer) URL(t *testing.T) string {
	t.Cleanup(s.srv.Close)
	return s.srv.URL
}

func (s *outageServer) setDown(v bool) { s.down.Store(v) }

func (s *outageServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

func (s *outageServer) handled() []handledRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

func (s *outageServer) refusedAt() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.refused)
}

func (s *outageServer) serve(w http.ResponseWriter, r *http.Request) {
	h, ok := postedRecord(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down.Load() {
		s.refused = append(s.refused, time.Now())
		w.Header().Set("Retry-After", strconv.Itoa(int(s.retryAfter/time.Second)))
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	s.recs = append(s.recs, h)
}
