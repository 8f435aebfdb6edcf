package reliability

import (
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

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// TestParking: an `http` handler's downstream refuses one key (500, a
// plain failure: the circuit stays closed) while a backlog of keyed
// records is consumed in key ordering with a retry topic. The refused
// key's records are parked; every other key is handled meanwhile and the
// consumed topic is committed to its end. The consumer is SIGKILLed twice
// while the key is parked, each new process reading the retry topic back;
// then the downstream takes the key again and its records arrive, in
// order, each once. Nothing is lost and nothing dead-lettered. A second
// scenario fails one record always: it is dead-lettered after the whole
// schedule, and its key's later records are handled after it, in order.
func TestParking(t *testing.T) {
	t.Parallel()
	n := pick(1_200, 6_000)
	const (
		partitions = 3
		keys       = 40
		refused    = "k7"
		topic      = "parking"
		group      = "parking"
	)
	b := actortest.Broker(t, actortest.NoAutoCreate())
	capSessionTimeout(b, 6*time.Second)
	addr := b.Addr()
	createTopic(t, addr, topic, partitions)
	srv := newParkingServer(func(key string, _ int64) bool { return key == refused })
	recs := make([]*kgo.Record, n)
	for i := range recs {
		k := "k" + strconv.Itoa(i%keys)
		recs[i] = &kgo.Record{Key: []byte(k), Value: []byte(k + ":" + strconv.Itoa(i/keys))}
	}
	actortest.Produce(t, actortest.At(addr), topic, recs...)
	end := endOffsets(t, addr, topic)
	want := n / keys // records of the refused key

	dir := t.TempDir()
	cfg := filepath.Join(dir, "parking.yaml")
	writeFile(t, cfg, parkingConfig(addr, topic, group, srv.URL(t), "[1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s]"))

	// Run 1: every other key is handled and the topic committed to its
	// end while the refused key is parked.
	srv.run("run 1")
	p := startActord(t, "run 1", "start", "--config", cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
		}
	})
	actortest.WaitCommittedToEnd(t, actortest.At(addr), group, topic)
	eventually(t, time.Minute, "every other key handled", func() bool { return srv.count() == n-want })
	if got := srv.handledKey(refused); len(got) != 0 {
		t.Fatalf("the refused key was handled %d times", len(got))
	}
	// Two SIGKILLs while the key is parked: each next process reads the
	// retry topic back and tries the key's head on the schedule.
	for run := 2; run <= 3; run++ {
		eventually(t, time.Minute, fmt.Sprintf("run %d to try the parked key", run-1), func() bool { return srv.triedIn(fmt.Sprintf("run %d", run-1)) > 0 })
		p.kill(t)
		name := fmt.Sprintf("run %d", run)
		srv.run(name)
		p = startActord(t, name, "start", "--config", cfg)
	}
	eventually(t, time.Minute, "run 3 to try the parked key", func() bool { return srv.triedIn("run 3") > 0 })
	srv.refuse.Store(false)
	eventually(t, time.Minute, "the parked key's records handled", func() bool { return len(srv.handledKey(refused)) >= want })
	p.stop(t, time.Minute)

	f := figures{scenario: "parking", sent: n}
	ta := newTally()
	ta.add(srv.handled())
	if missing := ta.fill(&f, end); len(missing) > 0 {
		t.Errorf("lost %d records:%s", len(missing), firstFew(missing))
	}
	got := srv.handledKey(refused)
	var offs []int64
	for _, h := range got {
		offs = append(offs, h.Offset)
	}
	if !slices.IsSorted(offs) || len(slices.Compact(slices.Clone(offs))) != len(offs) || len(offs) != want {
		t.Errorf("the parked key's records arrived %v, want its %d records once each, in offset order", offs, want)
	}
	checkKeyOrder(t, "the runs", srv.handled())
	dead := deadLettered(t, addr, topic+".dlq")
	if dead != 0 {
		t.Errorf("%d records dead-lettered, want 0", dead)
	}
	f.add("dead_lettered", dead)
	f.add("parked_key_records", want)
	f.add("sigkills_while_parked", 2)
	f.report(t)

	t.Run("poison", func(t *testing.T) { parkingPoison(t, addr) })
}

// parkingPoison: one record fails always; after its schedule it is
// dead-lettered, and its key's later records come after it, in order.
func parkingPoison(t *testing.T, addr string) {
	const topic, group, keys, n = "parking-poison", "parking-poison", 10, 200
	createTopic(t, addr, topic, 1)
	srv := newParkingServer(func(_ string, off int64) bool { return off == 3 })
	recs := make([]*kgo.Record, n)
	for i := range recs {
		k := "k" + strconv.Itoa(i%keys)
		recs[i] = &kgo.Record{Key: []byte(k), Value: []byte(k + ":" + strconv.Itoa(i/keys))}
	}
	actortest.Produce(t, actortest.At(addr), topic, recs...)
	cfg := filepath.Join(t.TempDir(), "poison.yaml")
	writeFile(t, cfg, parkingConfig(addr, topic, group, srv.URL(t), "[200ms, 200ms, 200ms]"))
	srv.run("run")
	p := startActord(t, "poison", "start", "--config", cfg)
	eventually(t, time.Minute, "every other record handled", func() bool { return srv.count() == n-1 })
	eventually(t, time.Minute, "the poison record dead-lettered", func() bool { return deadLettered(t, addr, topic+".dlq") == 1 })
	p.stop(t, time.Minute)
	var k3 []int64
	for _, h := range srv.handledKey("k3") {
		k3 = append(k3, h.Offset)
	}
	wantK3 := []int64{}
	for o := int64(13); o < n; o += keys {
		wantK3 = append(wantK3, o)
	}
	if !slices.Equal(k3, wantK3) {
		t.Errorf("k3 handled %v, want its records after the poison one in order %v", k3, wantK3)
	}
	letters := actortest.ReadTopic(t, actortest.At(addr), topic+".dlq", 1)
	if a := header(letters[0], "actord.dlq.attempts"); a != "5" {
		t.Errorf("dead letter after %s attempts, want 5 (2 in memory, 3 parked)", a)
	}
}

func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

func parkingConfig(addr, topic, group, url, schedule string) string {
	return fmt.Sprintf(`kafka: {bootstrap_servers: %s}
log: {level: %s}
http: {listen: ''}
runtime: {commit_interval: 100ms}
consumers:
  - topic: %s
    group: %s
    ordering: key
    concurrency: 8
    max_retries: 1
    backoff: {initial: 50ms, max: 100ms}
    retry_topic: %s.retry
    retry_schedule: %s
    handler:
      http: {url: %q, timeout: 10s}
`, addr, logLevel(), topic, group, topic, schedule, url)
}

// parkingServer is the downstream of TestParking: 500 for the records
// fail says so while refuse holds, 200 and noted otherwise.
type parkingServer struct {
	srv    *httptest.Server
	fail   func(key string, offset int64) bool
	refuse atomic.Bool

	mu    sync.Mutex
	cur   string
	tried map[string]int
	recs  []handledRecord
}

func newParkingServer(fail func(string, int64) bool) *parkingServer {
	s := &parkingServer{fail: fail, tried: map[string]int{}}
	s.refuse.Store(true)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *parkingServer) URL(t *testing.T) string {
	t.Cleanup(s.srv.Close)
	return s.srv.URL
}

func (s *parkingServer) run(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = name
}

func (s *parkingServer) triedIn(run string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tried[run]
}

func (s *parkingServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

func (s *parkingServer) handled() []handledRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

func (s *parkingServer) handledKey(k string) []handledRecord {
	var out []handledRecord
	for _, h := range s.handled() {
		if h.Key == k {
			out = append(out, h)
		}
	}
	return out
}

func (s *parkingServer) serve(w http.ResponseWriter, r *http.Request) {
	h, ok := postedRecord(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail(h.Key, h.Offset) && s.refuse.Load() {
		s.tried[s.cur]++
		http.Error(w, "not this one", http.StatusInternalServerError)
		return
	}
	s.recs = append(s.recs, h)
}
