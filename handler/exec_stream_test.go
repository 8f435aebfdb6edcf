//go:build linux

package handler_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// python3 is Debian's own interpreter (`make deps` installs its packages
// for it).
const python3 = "/usr/bin/python3"

// streamScript is a stream-mode child in Python that acts on each record's
// value: "ok:..." answers ok; "<verb>-once:..." behaves so on its first
// sight of the record (a marker file in $MARKS remembers it, across
// restarts of the child) and answers ok afterwards, where verb is retry,
// unavailable, die (exit 3 after a line on stderr), hang (no answer),
// garbage (a line out of protocol) or wrongoffset; "fail:<reason>"
// answers fail. Every ok is appended to $LOG as "key value attempt pid
// header-seq topic-env", and the child's pid to $PIDS as it starts.
const streamScript = `import json, os, sys, time
log = open(os.environ["LOG"], "a")
with open(os.environ["PIDS"], "a") as p:
    p.write("%d\n" % os.getpid())
def first(value):
    path = os.path.join(os.environ["MARKS"], value.replace("/", "_"))
    if os.path.exists(path):
        return False
    open(path, "w").close()
    return True
for line in sys.stdin:
    rec = json.loads(line)
    off, value = rec["offset"], rec["value"]
    verb = value.split(":", 1)[0]
    if verb.endswith("-once") and first(value):
        verb = verb[:-len("-once")]
        if verb == "retry":
            print(off, "retry", "not yet", flush=True); continue
        if verb == "unavailable":
            print(off, "unavailable", flush=True); continue
        if verb == "die":
            sys.stderr.write("dying on %s\n" % value); sys.stderr.flush(); sys.exit(3)
        if verb == "hang":
            time.sleep(1000)
        if verb == "garbage":
            print("hello", flush=True); continue
        if verb == "wrongoffset":
            print(off + 1, "ok", flush=True); continue
    if verb == "fail":
        print(off, "fail", value.split(":", 1)[1], flush=True); continue
    log.write("%s %s %d %d %s %s\n" % (rec["key"], value, rec["attempt"], os.getpid(),
        rec["headers"].get("seq"), os.environ["ACTORD_TOPIC"]))
    log.flush()
    print(off, "ok", flush=True)
`

// streamEnv is one test's stream child: its script and files.
type streamEnv struct {
	exec           *config.ExecHandler
	log, pids, dir string
}

func newStreamEnv(t *testing.T) *streamEnv {
	t.Helper()
	if _, err := os.Stat(python3); err != nil {
		t.Fatalf("%s: %v (make deps installs Debian's python3)", python3, err)
	}
	dir := t.TempDir()
	marks := filepath.Join(dir, "marks")
	if err := os.Mkdir(marks, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "stream.py")
	if err := os.WriteFile(script, []byte(streamScript), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &streamEnv{dir: dir, log: filepath.Join(dir, "log"), pids: filepath.Join(dir, "pids"),
		exec: &config.ExecHandler{Command: []string{python3, script}, Mode: config.ExecStream}}
	t.Setenv("LOG", e.log)
	t.Setenv("PIDS", e.pids)
	t.Setenv("MARKS", marks)
	return e
}

// handled is the log's lines, split in fields.
func (e *streamEnv) handled(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(e.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			out = append(out, strings.Fields(l))
		}
	}
	return out
}

// started is the pids of every child started so far.
func (e *streamEnv) started(t *testing.T) []int {
	t.Helper()
	b, err := os.ReadFile(e.pids)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pid)
	}
	return out
}

// consume declares the stream handler on topic under group and starts rt.
func (e *streamEnv) consume(t *testing.T, rt *actors.Runtime, topic, group string, opts ...actors.ConsumerOption) {
	t.Helper()
	props, err := handler.NewStream(e.exec, rt.Logger())
	if err != nil {
		t.Fatal(err)
	}
	if err := actors.ConsumeWith(rt, topic, group, props, opts...); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
}

// Key mode, concurrency 4: every record is handled once, in order per key,
// committed; at most one child per handler actor ran, and none is left
// once the runtime has stopped.
func TestExecStreamKeyModeOncePerRecordInKeyOrder(t *testing.T) {
	e := newStreamEnv(t)
	b := actortest.Broker(t)
	createTopic(t, b, "orders")
	const keys, perKey = 8, 50
	var recs []*kgo.Record
	for i := range perKey {
		for k := range keys {
			recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", k)), Value: []byte(fmt.Sprintf("ok:%d", i)),
				Headers: []kgo.RecordHeader{{Key: "seq", Value: []byte(strconv.Itoa(i))}}})
		}
	}
	actortest.Produce(t, b, "orders", recs...)

	rt := newRuntime(t, b)
	e.consume(t, rt, "orders", "g", actors.Ordering(actors.ByKey), actors.Concurrency(4))
	actortest.WaitCommittedToEnd(t, b, "g", "orders")
	actortest.Stop(t, rt)

	lines := e.handled(t)
	if len(lines) != keys*perKey {
		t.Fatalf("handled %d records, want %d once each", len(lines), keys*perKey)
	}
	next := map[string]int{}
	pids := map[string]bool{}
	for _, f := range lines {
		key, value, attempt, pid, seq, topic := f[0], f[1], f[2], f[3], f[4], f[5]
		if want := fmt.Sprintf("ok:%d", next[key]); value != want || seq != strconv.Itoa(next[key]) {
			t.Fatalf("key %s: handled %s (header seq %s), want %s next: order per key broken or a record handled twice", key, value, seq, want)
		}
		next[key]++
		if attempt != "1" || topic != "orders" {
			t.Errorf("line %q: want attempt 1 and ACTORD_TOPIC orders", f)
		}
		pids[pid] = true
	}
	started := e.started(t)
	if len(started) > 4 || len(pids) != len(started) {
		t.Errorf("children started %v, answering %d distinct: want at most one per handler actor (4), each answering", started, len(pids))
	}
	if len(started) < 2 {
		t.Errorf("children started %v: 8 keys over 4 handler actors ran in one child", started)
	}
	for _, pid := range started {
		if alive(pid) {
			t.Errorf("child %d still alive after the runtime stopped", pid)
		}
	}
}

// logBuffer is a concurrency-safe buffer for a runtime's log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Each answer does what it says, through the real handler on a real
// consumer: retry retries, fail dead-letters with its reason, unavailable
// opens the circuit; a child that dies, hangs past the handler timeout or
// answers out of protocol is replaced and its record tried again. Nothing
// is lost, every record is handled once, and the partition's order holds.
func TestExecStreamAnswersDoWhatTheySay(t *testing.T) {
	e := newStreamEnv(t)
	b := actortest.Broker(t)
	createTopic(t, b, "jobs")
	values := []string{"ok:a", "retry-once:b", "fail:bad amount", "unavailable-once:c", "die-once:d", "ok:e",
		"hang-once:f", "garbage-once:g", "wrongoffset-once:h", "ok:i"}
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, actortest.KeyValue("k", v))
	}
	actortest.Produce(t, b, "jobs", recs...)

	var logs logBuffer
	rt := actortest.Runtime(t, b, actors.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	e.consume(t, rt, "jobs", "g", actors.MaxRetries(3), actors.Backoff(time.Millisecond, 5*time.Millisecond),
		actors.HandlerTimeout(time.Second),
		actors.WithCircuit(actors.CircuitSettings{ProbeInitial: 10 * time.Millisecond, ProbeMax: 20 * time.Millisecond}))
	letters := actortest.WaitDeadLetters(t, b, "jobs.dlq", 1)
	actortest.WaitCommittedToEnd(t, b, "g", "jobs")
	// Four children were replaced (die, hang, garbage, wrong offset): each
	// is gone already, the hung one killed at the handler timeout; the
	// last runs until the runtime stops.
	started := e.started(t)
	if len(started) != 5 {
		t.Fatalf("children started %v, want 5: the first and one after each of die, hang, garbage and wrong offset", started)
	}
	for i, pid := range started {
		if alive(pid) != (i == 4) {
			t.Errorf("child %d of %v: alive %v before the runtime stopped", pid, started, alive(pid))
		}
	}
	actortest.Stop(t, rt)

	if got := letters[0].Error; !strings.Contains(got, "failed: bad amount") || string(letters[0].Value) != "fail:bad amount" {
		t.Errorf("dead letter %q with actord.dlq.error %q, want the fail record with its reason", letters[0].Value, got)
	}
	var got []string
	attempts := map[string]string{}
	for _, f := range e.handled(t) {
		got = append(got, f[1])
		attempts[f[1]] = f[2]
	}
	want := slices.DeleteFunc(slices.Clone(values), func(v string) bool { return strings.HasPrefix(v, "fail:") })
	if !slices.Equal(got, want) {
		t.Fatalf("handled %q, want %q: each once, in order", got, want)
	}
	for v, n := range map[string]string{"ok:a": "1", "retry-once:b": "2", "die-once:d": "2", "hang-once:f": "2", "garbage-once:g": "2", "wrongoffset-once:h": "2"} {
		if attempts[v] != n {
			t.Errorf("%s handled on attempt %s, want %s", v, attempts[v], n)
		}
	}
	// The circuit spends none of the record's retries; the attempt number
	// the handler sees still counts the one the outage took.
	if attempts["unavailable-once:c"] != "2" {
		t.Errorf("unavailable-once:c handled on attempt %s, want 2 (the outage's attempt counted, no retry spent)", attempts["unavailable-once:c"])
	}
	out := logs.String()
	for _, w := range []string{
		"circuit opened",
		"retry requested: not yet",
		"exited with exit status 3: dying on die-once:d",
		"handler timed out after 1s", // hang-once:f
		`answered \"hello\" for offset 7`,
		"answered \\\"9 ok\\\" for offset 8: another offset (9)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q:\n%s", w, out)
		}
	}
	for _, pid := range started {
		if alive(pid) {
			t.Errorf("child %d still alive after the runtime stopped", pid)
		}
	}
}

// With a pipeline of 4, the 4 handler actors of key mode c4 share one
// child, several records in flight in it. A child that dies with records
// in flight fails each of them, and each is handled by the next child:
// every record handled once, in order per key, committed; no child left
// once the runtime has stopped.
func TestExecStreamPipelineKeyModeDiesWithRecordsInFlight(t *testing.T) {
	e := newStreamEnv(t)
	e.exec.Pipeline = 4
	b := actortest.Broker(t)
	createTopic(t, b, "orders")
	const keys, perKey = 8, 40
	var recs []*kgo.Record
	for i := range perKey {
		for k := range keys {
			v := fmt.Sprintf("ok:%d", i)
			if k == 3 && (i == 10 || i == 30) {
				v = fmt.Sprintf("die-once:%d", i)
			}
			recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", k)), Value: []byte(v),
				Headers: []kgo.RecordHeader{{Key: "seq", Value: []byte(strconv.Itoa(i))}}})
		}
	}
	actortest.Produce(t, b, "orders", recs...)

	rt := newRuntime(t, b)
	e.consume(t, rt, "orders", "g", actors.Ordering(actors.ByKey), actors.Concurrency(4),
		actors.MaxRetries(3), actors.Backoff(time.Millisecond, 5*time.Millisecond))
	actortest.WaitCommittedToEnd(t, b, "g", "orders")
	actortest.Stop(t, rt)

	lines := e.handled(t)
	if len(lines) != keys*perKey {
		t.Fatalf("handled %d records, want %d once each", len(lines), keys*perKey)
	}
	next := map[string]int{}
	pids := map[string]bool{}
	for _, f := range lines {
		key, value, seq := f[0], f[1], f[4]
		if !strings.HasSuffix(value, fmt.Sprintf(":%d", next[key])) || seq != strconv.Itoa(next[key]) {
			t.Fatalf("key %s: handled %s (header seq %s), want seq %d next: order per key broken or a record handled twice", key, value, seq, next[key])
		}
		next[key]++
		pids[f[3]] = true
	}
	started := e.started(t)
	if len(started) != 3 || len(pids) > 3 {
		t.Errorf("children started %v, answering %d distinct: want 3, one shared child and one after each death", started, len(pids))
	}
	for _, pid := range started {
		if alive(pid) {
			t.Errorf("child %d still alive after the runtime stopped", pid)
		}
	}
}
