package reliability

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/internal/kafkatest"
)

// longMode reports whether the long variants run: `make test-long` sets
// ACTORD_LONG=1. Without it every scenario still runs, with smaller
// figures, so that `make test` exercises the same code.
func longMode() bool { return os.Getenv("ACTORD_LONG") == "1" }

// pick returns the quick figure, or the long one in long mode.
func pick[T any](quick, long T) T {
	if longMode() {
		return long
	}
	return quick
}

func mode() string { return pick("quick", "long") }

func TestMain(m *testing.M) {
	code := m.Run()
	kafkatest.RemoveBinaries()
	os.Exit(code)
}

// The actord binary is built once for the project's tests; brokers,
// clients, topics, offsets and waits come from the public test kit.
var (
	actordBinary = kafkatest.ActordBinary
	eventually   = actortest.Eventually
)

// newClient is a franz-go client of the broker at addr, closed at the
// test's cleanup at the latest.
func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return actortest.Client(t, actortest.At(addr), opts...)
}

// createTopic creates topic with partitions partitions on the broker at
// addr.
func createTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	actortest.CreateTopic(t, actortest.At(addr), topic, partitions)
}

// committed is group's committed offsets per partition of topic.
func committed(t testing.TB, addr, group, topic string) map[int32]int64 {
	t.Helper()
	return actortest.Committed(t, actortest.At(addr), group, topic)
}

// endOffsets is the end offset of each partition of topic.
func endOffsets(t testing.TB, addr, topic string) map[int32]int64 {
	t.Helper()
	return actortest.EndOffsets(t, actortest.At(addr), topic)
}

// figures are what every scenario prints when it ends: records sent,
// distinct records handled, records never handled and extra handlings.
type figures struct {
	scenario   string
	sent       int
	handled    int
	lost       int
	duplicated int
	// extra are further key=value figures, in order.
	extra []string
}

func (f *figures) add(k string, v any) { f.extra = append(f.extra, fmt.Sprintf("%s=%v", k, v)) }

// report logs the figures and prints them as one line on stdout, so that
// `go test -v` and `make test-long` show them.
func (f *figures) report(t *testing.T) {
	t.Helper()
	line := fmt.Sprintf("scenario=%s mode=%s sent=%d handled=%d lost=%d duplicated=%d",
		f.scenario, mode(), f.sent, f.handled, f.lost, f.duplicated)
	if len(f.extra) > 0 {
		line += " " + strings.Join(f.extra, " ")
	}
	t.Log(line)
	fmt.Println(line)
}

// capSessionTimeout makes the broker hold every group member to a session
// timeout of at most d, as a deployment would by setting the consumers'
// session.timeout.ms. franz-go's default is 45 s, actord has no key for
// it, and a member killed with SIGKILL keeps its partitions for that
// long: the cap decides when they move, not what is delivered.
func capSessionTimeout(b *broker.Broker, d time.Duration) {
	ms := int32(d / time.Millisecond)
	b.Cluster().ControlKey(int16(kmsg.JoinGroup), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if r, ok := req.(*kmsg.JoinGroupRequest); ok && r.SessionTimeoutMillis > ms {
			r.SessionTimeoutMillis = ms
		}
		return nil, nil, false // observed, not handled: the broker goes on as usual
	})
}

// lockedBuffer is a writer a test may read while it is written.
type lockedBuffer = kafkatest.LockedBuffer

// process is one running actord process.
type process struct {
	name   string
	cmd    *exec.Cmd
	stderr lockedBuffer
	done   chan struct{}
	err    error // valid once done is closed
}

// startActord runs the actord binary with args; the test's cleanup kills
// it if it is still running.
func startActord(t *testing.T, name string, args ...string) *process {
	t.Helper()
	p := &process{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(actordBinary(t), args...)
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.exited() {
		t.Fatalf("%s: %v: %v", p.name, sig, err)
	}
}

// wait waits up to d for the process to exit and returns its exit error.
func (p *process) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("%s still running %v after it was told to stop; stderr:\n%s", p.name, d, p.stderr.String())
		return nil
	}
}

// stop sends SIGTERM and requires a clean exit (drain, commit, leave).
func (p *process) stop(t *testing.T, d time.Duration) {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
	if err := p.wait(t, d); err != nil {
		t.Fatalf("%s after SIGTERM: %v, want exit 0; stderr:\n%s", p.name, err, p.stderr.String())
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	err := p.wait(t, 10*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("%s after SIGKILL: %v, want killed by the signal; stderr:\n%s", p.name, err, p.stderr.String())
	}
}

// consumerConfig is the config file of one `actord start` process: one
// consumer of topic in group whose `log` handler appends one JSON line
// per record to logFile.
type consumerConfig struct {
	addr, topic, group string
	// clientID names the process to the broker (and in DescribeGroups).
	clientID string
	// httpListen serves /readyz (and /metrics); empty turns it off.
	httpListen     string
	ordering       string
	maxInFlight    int
	commitInterval time.Duration
	logFile        string
}

func (c consumerConfig) write(t *testing.T, path string) string {
	t.Helper()
	yaml := fmt.Sprintf(`kafka:
  bootstrap_servers: %s
  client_id: %q
log:
  level: %s
http:
  listen: %q
runtime:
  max_in_flight: %d
  commit_interval: %s
  drain_timeout: 20s
consumers:
  - topic: %s
    group: %s
    ordering: %s
    handler:
      log: {file: %q}
`, c.addr, cmp.Or(c.clientID, "actord"), logLevel(), c.httpListen, c.maxInFlight, c.commitInterval, c.topic, c.group, c.ordering, c.logFile)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// logLevel is the processes' log level: warn, or ACTORD_TEST_LOG_LEVEL
// when set (their stderr is printed when a test fails).
func logLevel() string {
	if l := os.Getenv("ACTORD_TEST_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}

// ready reports whether the process at addr answers /readyz with 200: it
// reached the broker and its groups have joined.
func ready(addr string) bool {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get("http://" + addr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// handledRecord is one line the `log` handler wrote: one handling of one
// record.
type handledRecord struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
	Value     string `json:"value"`
}

// logReader follows a `log` handler's file as it grows, parsing complete
// lines only (a line is written with one write call, so a killed process
// leaves none half written; a partial tail would be read once complete).
type logReader struct {
	path string
	off  int64
	tail []byte
	recs []handledRecord
}

func newLogReader(path string) *logReader { return &logReader{path: path} }

// read parses what was appended since the last call and returns every
// record handled so far, in file order.
func (r *logReader) read(t *testing.T) []handledRecord {
	t.Helper()
	f, err := os.Open(r.path)
	if errors.Is(err, os.ErrNotExist) {
		return r.recs
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(r.off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	r.off += int64(len(b))
	b = append(r.tail, b...)
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		r.tail = b
		return r.recs
	}
	r.tail = append([]byte(nil), b[last+1:]...)
	for ln := range bytes.SplitSeq(b[:last], []byte{'\n'}) {
		var h handledRecord
		if err := json.Unmarshal(ln, &h); err != nil {
			t.Fatalf("%s: line %q: %v", r.path, ln, err)
		}
		r.recs = append(r.recs, h)
	}
	return r.recs
}

// po is a record's place: partition and offset.
type po struct {
	p int32
	o int64
}

// tally counts handlings across the files of several runs.
type tally struct {
	seen map[po]int
}

func newTally() *tally { return &tally{seen: map[po]int{}} }

func (ta *tally) add(recs []handledRecord) {
	for _, h := range recs {
		ta.seen[po{h.Partition, h.Offset}]++
	}
}

// fill puts the figures of the records in [0, end) of every partition.
func (ta *tally) fill(f *figures, end map[int32]int64) (missing []po) {
	for p, e := range end {
		for o := range e {
			n := ta.seen[po{p, o}]
			switch {
			case n == 0:
				f.lost++
				missing = append(missing, po{p, o})
			default:
				f.handled++
				f.duplicated += n - 1
			}
		}
	}
	sort.Slice(missing, func(i, j int) bool {
		if missing[i].p != missing[j].p {
			return missing[i].p < missing[j].p
		}
		return missing[i].o < missing[j].o
	})
	return missing
}

// firstFew formats up to 10 places for an error message.
func firstFew(xs []po) string {
	var b strings.Builder
	for i, x := range xs {
		if i == 10 {
			fmt.Fprintf(&b, " ... (%d in all)", len(xs))
			break
		}
		fmt.Fprintf(&b, " %d@%d", x.p, x.o)
	}
	return b.String()
}

// stream produces n records (key and value of record i from kv) at about
// rate records a second, as a service would, with an idempotent acks=all
// producer. The pacing is the workload's schedule, not a wait for an
// outcome. wait returns once every record is acknowledged.
type stream struct {
	n     int
	acked atomic.Int64
	sent  atomic.Int64
	errc  chan error
}

func startStream(t *testing.T, addr, topic string, n, rate int, kv func(i int) (key, value string)) *stream {
	t.Helper()
	s := &stream{n: n, errc: make(chan error, 1)}
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(2*time.Millisecond),
		kgo.RecordDeliveryTimeout(2*time.Minute))
	go func() {
		defer cl.Close()
		ctx := context.Background()
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
		)
		start := time.Now()
		const tick = 10 * time.Millisecond
		for i := range n {
			if due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second))); time.Until(due) > tick {
				time.Sleep(time.Until(due)) // the stream's schedule
			}
			k, v := kv(i)
			wg.Add(1)
			s.sent.Add(1)
			cl.Produce(ctx, &kgo.Record{Key: []byte(k), Value: []byte(v)}, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				} else {
					s.acked.Add(1)
				}
				wg.Done()
			})
		}
		wg.Wait()
		s.errc <- first
	}()
	return s
}

// wait waits up to d for every record to be acknowledged.
func (s *stream) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-s.errc:
		if err != nil {
			t.Fatalf("producing the stream: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("stream: %d of %d records acknowledged after %v", s.acked.Load(), s.n, d)
	}
}

// waitStable waits until group is stable with members members, each with
// an assignment: the processes have joined and own the partitions.
func waitStable(t *testing.T, addr, group string, members int, d time.Duration) {
	t.Helper()
	cl := newClient(t, addr)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	eventually(t, d, fmt.Sprintf("group %s stable with %d members", group, members), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gs, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false
		}
		g, ok := gs[group]
		if !ok || g.Err != nil || g.State != "Stable" || len(g.Members) != members {
			return false
		}
		for _, m := range g.Members {
			if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) == 0 {
				return false
			}
		}
		return true
	})
}

// rateMeter estimates a handling rate from samples of a growing count.
type rateMeter struct {
	at []time.Time
	n  []int
}

func (m *rateMeter) sample(n int) {
	m.at = append(m.at, time.Now())
	m.n = append(m.n, n)
}

// over returns the rate, a second, of the last window ending at (end, n).
func (m *rateMeter) over(window time.Duration, end time.Time, n int) float64 {
	i := len(m.at) - 1
	for i > 0 && end.Sub(m.at[i]) < window {
		i--
	}
	if i < 0 || !end.After(m.at[i]) {
		return 0
	}
	return float64(n-m.n[i]) / end.Sub(m.at[i]).Seconds()
}

// assignedTo returns the partitions of topic that group last assigned to
// the member with clientID (a dead member keeps its assignment until its
// session expires).
func assignedTo(t *testing.T, addr, group, topic, clientID string) []int32 {
	t.Helper()
	cl := newClient(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gs, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var out []int32
	for _, m := range gs[group].Members {
		a, ok := m.Assigned.AsConsumer()
		if m.ClientID != clientID || !ok {
			continue
		}
		for _, at := range a.Topics {
			if at.Topic == topic {
				out = append(out, at.Partitions...)
			}
		}
	}
	return out
}
