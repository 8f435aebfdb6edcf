package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// The trivial scripts of the exec scenario: each answers every record as
// done and does nothing else, so what is measured is the handler kind's
// own cost. The stream ones are README's examples of the line protocol.
const (
	perRecordScript = "#!/bin/sh\nexit 0\n"
	shellStream     = `#!/bin/sh
while IFS= read -r line; do
  offset=${line#*\"offset\":}; offset=${offset%%,*}
  printf '%s ok\n' "$offset"
done
`
	pythonStream = `import json, sys
for line in sys.stdin:
    rec = json.loads(line)
    print(rec["offset"], "ok", flush=True)
`
)

// The stream scripts' names.
const (
	scriptSh = "sh while-read loop"
	scriptPy = "Python loop"
)

// Python3 is the interpreter of the Python stream script: Debian's own.
const Python3 = "/usr/bin/python3"

// ExecSide is one exec handler under test.
type ExecSide struct {
	Name string
	// Stream runs Command in stream mode; otherwise once per record.
	Stream      bool
	Command     []string
	Ordering    actors.OrderingMode
	Concurrency int
	// Pipeline is the stream handler's exec.pipeline (0: one child per
	// handler actor).
	Pipeline int
	// Records is how many records the side handles per round: per-record
	// exec is slow enough that a few thousand take seconds.
	Records int
	// Target marks the sides held to StreamTarget.
	Target bool
	// Script names a stream side's script ("sh while-read loop").
	Script string
}

// ExecSides are the exec scenario's sides, per-record exec first, with
// their scripts written into dir: perRecordN records go through
// per-record exec, streamN through the Python loop in key mode (the
// figure of issue 19's target) and fewer through the slower sides, so
// that each takes a few seconds.
func ExecSides(dir string, perRecordN, streamN int) ([]ExecSide, error) {
	write := func(name, body string, mode os.FileMode) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, []byte(body), mode)
	}
	pr, err := write("per-record.sh", perRecordScript, 0o755)
	if err != nil {
		return nil, err
	}
	sh, err := write("stream.sh", shellStream, 0o755)
	if err != nil {
		return nil, err
	}
	py, err := write("stream.py", pythonStream, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(Python3); err != nil {
		return nil, fmt.Errorf("exec scenario: %w (make deps installs Debian's python3)", err)
	}
	return []ExecSide{
		{Name: "per-record exec, sh `exit 0`, key mode c16", Command: []string{pr}, Ordering: actors.ByKey, Concurrency: 16, Records: perRecordN},
		{Name: "stream, sh while-read loop, key mode c4", Script: scriptSh, Stream: true, Command: []string{sh}, Ordering: actors.ByKey, Concurrency: 4, Records: streamN / 10, Target: true},
		{Name: "stream, Python loop, partition mode", Script: scriptPy, Stream: true, Command: []string{Python3, py}, Ordering: actors.ByPartition, Records: streamN / 4},
		{Name: "stream, Python loop, key mode c4", Script: scriptPy, Stream: true, Command: []string{Python3, py}, Ordering: actors.ByKey, Concurrency: 4, Records: streamN, Target: true},
		{Name: "stream, sh while-read loop, key mode c4, pipeline 4", Script: scriptSh, Stream: true, Command: []string{sh}, Ordering: actors.ByKey, Concurrency: 4, Pipeline: 4, Records: streamN / 10, Target: true},
		{Name: "stream, Python loop, key mode c4, pipeline 4", Script: scriptPy, Stream: true, Command: []string{Python3, py}, Ordering: actors.ByKey, Concurrency: 4, Pipeline: 4, Records: streamN, Target: true},
	}, nil
}

// ExecResult is one exec side's run.
type ExecResult struct {
	Side    ExecSide
	Records int
	// Span runs from the consumer's first fetch to the last record's
	// answer (the handled counter at the record count).
	Span time.Duration
	// CPU is actord's process (broker included) and its children's, over
	// the run; ChildCPU the children's part.
	CPU, ChildCPU time.Duration
}

// Rate is records per second.
func (r ExecResult) Rate() float64 { return float64(r.Records) / r.Span.Seconds() }

// ExecThroughput runs s over a fresh 3-partition topic of s.Records
// records under a fresh group, and times it until every record is
// handled (the runtime's handled counter, read every millisecond); it
// then waits, untimed, until every record is committed.
func (e *Env) ExecThroughput(ctx context.Context, s ExecSide) (ExecResult, error) {
	topic, group := e.Name("exec"), e.Name("exec-group")
	if err := e.CreateTopic(ctx, topic, 3); err != nil {
		return ExecResult{}, err
	}
	defer e.DeleteTopic(context.Background(), topic)
	if err := e.Fill(ctx, topic, s.Records, 1000); err != nil {
		return ExecResult{}, err
	}
	rt, err := e.Runtime(actors.CommitInterval(100 * time.Millisecond))
	if err != nil {
		return ExecResult{}, err
	}
	defer StopRuntime(rt)
	opts := []actors.ConsumerOption{actors.Ordering(s.Ordering), actors.NoDeadLetter()}
	if s.Concurrency > 0 {
		opts = append(opts, actors.Concurrency(s.Concurrency))
	}
	ex := &config.ExecHandler{Command: s.Command, Pipeline: s.Pipeline}
	if s.Stream {
		ex.Mode = config.ExecStream
		props, err := handler.NewStream(ex, e.Log)
		if err != nil {
			return ExecResult{}, err
		}
		err = actors.ConsumeWith(rt, topic, group, props, opts...)
	} else {
		var fn handler.Func
		if fn, err = handler.New(config.Handler{Exec: ex}, nil, nil); err == nil {
			err = actors.Consume(rt, topic, group, fn, opts...)
		}
	}
	if err != nil {
		return ExecResult{}, err
	}
	cl, err := kgo.NewClient(e.ClientOpts()...)
	if err != nil {
		return ExecResult{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	e.armFetchClock()
	self0, child0 := cpuTime(), childrenCPU()
	if err := rt.Start(ctx); err != nil {
		return ExecResult{}, err
	}
	// The span ends at the last record's answer (the handled counter,
	// read every millisecond); it ended at the commit that covered it,
	// which the 100 ms commit ticks rounded up: a run of 20,000 records
	// read as 0.4 s, 50k/s, whether the script took 0.31 s or 0.39 s.
	handled := rt.Metrics().Handled.WithLabelValues(topic, group).(prometheus.Metric)
	for {
		var m dto.Metric
		if err := handled.Write(&m); err == nil && m.GetCounter().GetValue() >= float64(s.Records) {
			break
		}
		select {
		case <-ctx.Done():
			return ExecResult{}, fmt.Errorf("%s: %w", s.Name, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	end := time.Now()
	// Every record is committed too (not timed).
	for {
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil && ctx.Err() != nil {
			return ExecResult{}, fmt.Errorf("%s: %w", s.Name, ctx.Err())
		}
		if err == nil && committedAll(offs, topic, s.Records) {
			break
		}
		select {
		case <-ctx.Done():
			return ExecResult{}, fmt.Errorf("%s: %w", s.Name, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	start := e.fetchClock()
	if start.IsZero() {
		return ExecResult{}, errors.New("exec scenario: no fetch seen")
	}
	// Stopping ends (and reaps) the stream children, whose CPU then counts.
	if err := StopRuntime(rt); err != nil {
		return ExecResult{}, err
	}
	self, child := cpuTime()-self0, childrenCPU()-child0
	return ExecResult{Side: s, Records: s.Records, Span: end.Sub(start), CPU: self + child, ChildCPU: child}, nil
}

// committedAll reports whether offs commit all n records of topic's
// partitions.
func committedAll(offs kadm.OffsetResponses, topic string, n int) bool {
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum == int64(n)
}

// childrenCPU is the CPU time of the process's children that have ended
// and been waited for.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CompareExec runs every side rounds times, alternating the order of the
// sides between rounds, and keeps each side's median run.
func (e *Env) CompareExec(ctx context.Context, sides []ExecSide, rounds int) ([]ExecResult, error) {
	return e.compareExec(ctx, sides, rounds, nil)
}

// compareExec is CompareExec, calling each, when not nil, after every run.
func (e *Env) compareExec(ctx context.Context, sides []ExecSide, rounds int, each func(ExecResult)) ([]ExecResult, error) {
	runs, err := alternateRuns(len(sides), rounds, func(i int) (ExecResult, error) {
		r, err := e.ExecThroughput(ctx, sides[i])
		if err == nil && each != nil {
			each(r)
		}
		return r, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ExecResult, len(sides))
	for i, rs := range runs {
		out[i] = medianBy(rs, execSpan)
	}
	return out, nil
}

// execSpan is the key compareExec and ScriptsAlone take the median by.
func execSpan(r ExecResult) time.Duration { return r.Span }

// StreamTarget is issue 19's goal for a trivial stream-mode script.
const StreamTarget = 50_000

// ScriptAlone feeds a stream script n lines of the stream protocol, as
// actord writes them for the scenario's records (same fields, a
// ValueSize value), through a pipe from this process, with no broker and
// no actord, and times it until it has answered all n: what one child of
// that script can do at most on this machine. The result's side is
// named name; its CPU is the child's.
func ScriptAlone(ctx context.Context, name string, argv []string, n int) (ExecResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return ExecResult{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return ExecResult{}, err
	}
	value := fillValue()
	type line struct {
		Topic     string            `json:"topic"`
		Partition int32             `json:"partition"`
		Offset    int               `json:"offset"`
		Key       string            `json:"key"`
		Headers   map[string]string `json:"headers"`
		Value     string            `json:"value"`
		Timestamp string            `json:"timestamp"`
		Attempt   int               `json:"attempt"`
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	for i := range n {
		if err := enc.Encode(line{Topic: "exec-alone", Partition: int32(i % 3), Offset: i, Key: "k" + strconv.Itoa(i%1000),
			Headers: map[string]string{}, Value: string(value), Timestamp: ts, Attempt: 1}); err != nil {
			return ExecResult{}, err
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return ExecResult{}, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		in.WriteTo(stdin)
		stdin.Close()
	}()
	answers := 0
	sc := bufio.NewScanner(stdout)
	for answers < n && sc.Scan() {
		if !bytes.HasSuffix(sc.Bytes(), []byte(" ok")) {
			cancel() // ends the child, which would block on its next answer
			cmd.Wait()
			return ExecResult{}, fmt.Errorf("%s: answer %d is %q, not \"<offset> ok\"", name, answers, sc.Text())
		}
		answers++
	}
	span := time.Since(start)
	if err := cmd.Wait(); err != nil {
		return ExecResult{}, fmt.Errorf("%s: %w", name, err)
	}
	if answers < n {
		return ExecResult{}, fmt.Errorf("%s: %d answers to %d lines", name, answers, n)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return ExecResult{Side: ExecSide{Name: name, Stream: true, Command: argv}, Records: n, Span: span, CPU: cpu, ChildCPU: cpu}, nil
}

// ExecTable is the exec scenario's table.
func ExecTable(rs, alone []ExecResult, rounds int) Table {
	t := Table{
		Title: "6. Exec handlers: per record against stream mode",
		Method: fmt.Sprintf("Records of %d bytes over 3 partitions (1,000 keys), each side over a fresh topic and group per round, median of %d rounds (side order reversed every other round). "+
			"Every script answers every record as done and does nothing else: per-record exec runs `#!/bin/sh` `exit 0` once per record; the stream sides are README's examples (a `while read` loop in /bin/sh, and a Python loop on %s doing json.loads and a flushed print), one child per handler actor, or, with pipeline 4, one child shared by the 4 handler actors of a partition (up to 4 records in flight in it). "+
			"Time runs from the consumer's first fetch to the last record's answer (the handled counter, read every millisecond; the offsets committed at the end are then awaited, untimed). "+
			"CPU is actord's process, the broker in it, and the children's, per record. "+
			"The `alone` rows are each script by itself, one child fed the same lines through a pipe from Go, no broker and no actord (median of %d): the most one child of it does on this machine.", ValueSize, rounds, Python3, rounds),
		Header: []string{"side", "records", "records/s", "ratio to per-record exec", "time", "CPU/record", "of which children"},
	}
	base := rs[0].Rate()
	for _, r := range append(slices.Clone(rs), alone...) {
		t.Rows = append(t.Rows, []string{r.Side.Name, thousands(r.Records), Rate(r.Rate()), Ratio(r.Rate() / base), Millis(r.Span),
			fmt.Sprintf("%.1f µs", float64(r.CPU.Microseconds())/float64(r.Records)),
			fmt.Sprintf("%.1f µs", float64(r.ChildCPU.Microseconds())/float64(r.Records))})
	}
	// Issue 19's target is on a trivial script, "a shell while read loop
	// or a Python loop": met when one of them reaches it; every side's
	// figure is in the line.
	var best float64
	var got []string
	for _, r := range rs[1:] {
		if !r.Side.Target {
			continue
		}
		best = max(best, r.Rate())
		got = append(got, fmt.Sprintf("%s %s/s", strings.TrimPrefix(r.Side.Name, "stream, "), Rate(r.Rate())))
	}
	for _, r := range alone {
		got = append(got, fmt.Sprintf("%s %s/s", r.Side.Name, Rate(r.Rate())))
	}
	if got != nil {
		t.Targets = append(t.Targets, Target{
			What: fmt.Sprintf("a trivial stream-mode script (the sh while-read loop or the Python loop) >= %s records/s", thousands(StreamTarget)),
			Got:  fmt.Sprintf("best %s records/s, %s per-record exec's: %s", Rate(best), Ratio(best/base), strings.Join(got, "; ")),
			Met:  best >= StreamTarget,
		})
	}
	return t
}

// ScriptsAlone runs ScriptAlone rounds times for each stream script of
// sides, as many lines as the script's first side has records, and keeps
// each script's median run.
func ScriptsAlone(ctx context.Context, sides []ExecSide, rounds int) ([]ExecResult, error) {
	var out []ExecResult
	seen := map[string]bool{}
	for _, s := range sides {
		if !s.Stream || s.Script == "" || seen[s.Script] {
			continue
		}
		seen[s.Script] = true
		var runs []ExecResult
		for range rounds {
			r, err := ScriptAlone(ctx, s.Script+" alone (one child, a pipe, no actord)", s.Command, s.Records)
			if err != nil {
				return nil, err
			}
			runs = append(runs, r)
		}
		out = append(out, medianBy(runs, execSpan))
	}
	return out, nil
}

// ExecAlone runs the exec scenario by itself on a broker of its own
// (report's -only exec): perRecordN and streamN as ExecSides takes them,
// rounds rounds, every run printed to stderr as it ends.
func ExecAlone(ctx context.Context, perRecordN, streamN, rounds int) (*Report, error) {
	r := &Report{Machine: ThisMachine(), When: time.Now()}
	e, err := Start()
	if err != nil {
		return nil, err
	}
	defer e.Close()
	dir, err := os.MkdirTemp("", "actord-bench-exec")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sides, err := ExecSides(dir, perRecordN, streamN)
	if err != nil {
		return nil, err
	}
	rs, err := e.compareExec(ctx, sides, rounds, func(x ExecResult) {
		fmt.Fprintf(os.Stderr, "exec: %s: %s records/s (%s in %v)\n", x.Side.Name, Rate(x.Rate()), thousands(x.Records), x.Span.Round(time.Millisecond))
	})
	if err != nil {
		return nil, err
	}
	alone, err := ScriptsAlone(ctx, sides, rounds)
	if err != nil {
		return nil, err
	}
	r.Tables = append(r.Tables, ExecTable(rs, alone, rounds))
	r.LoadAfter = LoadAverage()
	return r, nil
}
