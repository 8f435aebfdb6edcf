package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The daemon scenario (issue 19, item 1): the stock binary, `actord start`
// with a built-in handler kind, against the tools a user would otherwise
// run on the same broker and records: kcat (librdkafka) consuming in a
// group to a file, for the log kind; a raw franz-go consume-and-produce
// loop, for the forward kind.

// DaemonSide is one side of the daemon scenario.
type DaemonSide int

// The sides, in table order.
const (
	// KcatSide is `kcat -G <group> -J -o beginning -c N` to a file.
	KcatSide DaemonSide = iota
	// DaemonLogSide is `actord start` with a log handler to a file.
	DaemonLogSide
	// RawForwardSide is the in-process raw franz-go loop: poll, produce
	// every record to the target topic, wait for the acks, commit.
	RawForwardSide
	// DaemonForwardSide is `actord start` with a forward handler.
	DaemonForwardSide
)

// String names s in the table.
func (s DaemonSide) String() string {
	switch s {
	case KcatSide:
		return "kcat -G -J to a file (librdkafka)"
	case DaemonLogSide:
		return "actord start, log handler to a file"
	case RawForwardSide:
		return "raw franz-go consume, produce, commit loop"
	case DaemonForwardSide:
		return "actord start, forward handler"
	}
	return "side " + strconv.Itoa(int(s))
}

// DaemonTargets are issue 19's goals: the log kind at least twice kcat's
// speed, the forward kind at least 0.8 of the raw loop's.
const (
	DaemonLogTarget     = 2.0
	DaemonForwardTarget = 0.8
)

// DaemonResult is one side's run over the backlog.
type DaemonResult struct {
	Side    DaemonSide
	Records int
	// Span runs from the side's first fetch at the broker to its output
	// complete: every record's line in the output file (kcat, the log
	// kind) or every copy acknowledged in the target topic (its end
	// offsets summing to the records: the forward sides).
	Span time.Duration
	// Wall runs from the process's start (the raw loop's client's
	// creation) to the same end.
	Wall time.Duration
	// Committed runs from the first fetch to the group's committed
	// offsets at the end of the source topic (polled after the output
	// was complete); zero when the side did not commit within 15 s.
	Committed time.Duration
	// CPU is the child process's user and system time over the run, zero
	// for the in-process raw loop (whose process holds the broker too).
	CPU time.Duration
}

// Rate is records per second over Span.
func (r DaemonResult) Rate() float64 { return float64(r.Records) / r.Span.Seconds() }

// DaemonBench is the scenario's fixture: the built binary, a scratch
// directory and the backlog topic.
type DaemonBench struct {
	e       *Env
	Bin     string
	dir     string
	Topic   string
	Records int
}

// NewDaemonBench builds cmd/actord into a scratch directory, checks that
// kcat is installed, and writes n records of ValueSize bytes (JSON
// objects, keyed by 1,000 keys) to a fresh 3-partition topic.
func (e *Env) NewDaemonBench(ctx context.Context, n int) (*DaemonBench, error) {
	if _, err := exec.LookPath("kcat"); err != nil {
		return nil, fmt.Errorf("daemon scenario: %w (make deps installs kcat)", err)
	}
	dir, err := os.MkdirTemp("", "actord-bench-daemon")
	if err != nil {
		return nil, err
	}
	d := &DaemonBench{e: e, dir: dir, Bin: filepath.Join(dir, "actord"), Topic: e.Name("daemon"), Records: n}
	if err := buildActord(ctx, d.Bin); err != nil {
		d.Close()
		return nil, err
	}
	if err := e.CreateTopic(ctx, d.Topic, 3); err != nil {
		d.Close()
		return nil, err
	}
	if err := e.FillJSON(ctx, d.Topic, n, 1000); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close deletes the backlog and the scratch directory.
func (d *DaemonBench) Close() {
	d.e.DeleteTopic(context.Background(), d.Topic)
	os.RemoveAll(d.dir)
}

// buildActord builds the module's cmd/actord to bin.
func buildActord(ctx context.Context, bin string) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("daemon scenario: go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/actord")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("daemon scenario: building actord: %w\n%s", err, b)
	}
	return nil
}

// JSONValue is record i's value in the daemon scenario: a JSON object of
// exactly ValueSize bytes.
func JSONValue(i int) []byte {
	v := fmt.Appendf(nil, `{"id":%d,"customer":"customer-%d","sku":"SKU-4711-XL","note":"`, i, i%1000)
	for len(v) < ValueSize-2 {
		v = append(v, 'x')
	}
	return append(v, '"', '}')
}

// FillJSON writes n JSONValue records to topic, keyed "k<i % keys>", and
// waits until every one is acknowledged.
func (e *Env) FillJSON(ctx context.Context, topic string, n, keys int) error {
	cl, err := kgo.NewClient(append(e.ClientOpts(), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	var failed firstError
	promise := func(_ *kgo.Record, err error) { failed.set(err) }
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Key: []byte("k" + strconv.Itoa(i%keys)), Value: JSONValue(i)}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	if err := failed.get(); err != nil {
		return fmt.Errorf("filling %s: %w", topic, err)
	}
	return nil
}

// Run runs side s once over the whole backlog under a fresh group (and,
// for the forward sides, to a fresh target topic).
func (d *DaemonBench) Run(ctx context.Context, s DaemonSide) (DaemonResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	switch s {
	case KcatSide, DaemonLogSide:
		return d.runToFile(ctx, s)
	default:
		return d.runForward(ctx, s)
	}
}

// runToFile runs kcat or the log kind, each writing a line a record to
// a fresh file, until the file holds every record's line.
func (d *DaemonBench) runToFile(ctx context.Context, s DaemonSide) (DaemonResult, error) {
	group := d.e.Name("daemon-group")
	out := filepath.Join(d.dir, group+".out")
	defer os.Remove(out)
	f, err := os.Create(out)
	if err != nil {
		return DaemonResult{}, err
	}
	defer f.Close()
	var cmd *exec.Cmd
	if s == KcatSide {
		// -c: exit after the records (kcat's -e in group mode waits for
		// every partition's end, which it may reach before the last
		// rebalance settles); its output is stdout, to the file.
		cmd = exec.CommandContext(ctx, "kcat", "-q", "-b", d.e.Addr, "-G", group, "-J", "-o", "beginning",
			"-X", "auto.offset.reset=earliest", "-c", strconv.Itoa(d.Records), d.Topic)
		cmd.Stdout = f
	} else {
		cfg, err := d.writeConfig(group, fmt.Sprintf("log: {file: %q}", out))
		if err != nil {
			return DaemonResult{}, err
		}
		cmd = exec.CommandContext(ctx, d.Bin, "start", "--config", cfg)
		cmd.Stdout = io.Discard
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	r := DaemonResult{Side: s, Records: d.Records}
	p, err := d.start(cmd)
	if err != nil {
		return r, err
	}
	defer p.kill()
	if err := waitLines(ctx, out, d.Records, p.exited); err != nil {
		return r, fmt.Errorf("%s: %w; stderr:\n%s", s, err, stderr.String())
	}
	if err := d.finish(ctx, &r, p, group); err != nil {
		return r, fmt.Errorf("%s: %w; stderr:\n%s", s, err, stderr.String())
	}
	return r, nil
}

// runForward runs the forward kind or the raw loop to a fresh target
// topic until its end offsets sum to the records.
func (d *DaemonBench) runForward(ctx context.Context, s DaemonSide) (DaemonResult, error) {
	group, target := d.e.Name("forward-group"), d.e.Name("forwarded")
	if err := d.e.CreateTopic(ctx, target, 3); err != nil {
		return DaemonResult{}, err
	}
	defer d.e.DeleteTopic(context.Background(), target)
	r := DaemonResult{Side: s, Records: d.Records}
	var stderr bytes.Buffer
	var p *proc
	if s == DaemonForwardSide {
		cfg, err := d.writeConfig(group, fmt.Sprintf("forward: {topic: %q}", target))
		if err != nil {
			return r, err
		}
		cmd := exec.CommandContext(ctx, d.Bin, "start", "--config", cfg)
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if p, err = d.start(cmd); err != nil {
			return r, err
		}
	} else {
		p = d.startRaw(ctx, group, target)
	}
	defer p.kill()
	if err := d.waitEnd(ctx, target, p.exited); err != nil {
		return r, fmt.Errorf("%s: %w; stderr:\n%s", s, err, stderr.String())
	}
	if err := d.finish(ctx, &r, p, group); err != nil {
		return r, fmt.Errorf("%s: %w; stderr:\n%s", s, err, stderr.String())
	}
	return r, nil
}

// writeConfig writes the daemon's config: the bench broker, no HTTP
// listener, errors only in its log, and one consumer of the backlog in
// group with handler (a flow mapping), otherwise at the defaults
// (partition ordering, commit every second).
func (d *DaemonBench) writeConfig(group, handler string) (string, error) {
	body := fmt.Sprintf(`kafka: {bootstrap_servers: %q}
http: {listen: ""}
log: {level: error}
consumers:
  - topic: %s
    group: %s
    handler: {%s}
`, d.e.Addr, d.Topic, group, handler)
	p := filepath.Join(d.dir, group+".yaml")
	return p, os.WriteFile(p, []byte(body), 0o644)
}

// proc is a running side: a child process or the raw loop's goroutine.
type proc struct {
	started time.Time
	exited  chan struct{}
	err     error // once exited is closed
	cmd     *exec.Cmd
	cancel  context.CancelFunc
}

func (d *DaemonBench) start(cmd *exec.Cmd) (*proc, error) {
	d.e.armFetchClock()
	p := &proc{started: time.Now(), exited: make(chan struct{}), cmd: cmd}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// kill ends the side if it still runs and waits for it.
func (p *proc) kill() {
	if p.cmd != nil {
		p.cmd.Process.Kill()
	} else {
		p.cancel()
	}
	<-p.exited
}

// stop ends the side the way a user would (SIGTERM; the raw loop's
// context) and waits for it, at most 30 s.
func (p *proc) stop() error {
	if p.cmd != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
	} else {
		p.cancel()
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		return errors.New("did not stop within 30s")
	}
	if p.cmd == nil && errors.Is(p.err, context.Canceled) {
		return nil
	}
	return p.err
}

// finish takes the end time, waits (at most 15 s) for the group's
// commit at the backlog's end, stops the side and fills r.
func (d *DaemonBench) finish(ctx context.Context, r *DaemonResult, p *proc, group string) error {
	end := time.Now()
	first := d.e.fetchClock()
	if first.IsZero() {
		return errors.New("no fetch seen")
	}
	r.Span, r.Wall = end.Sub(first), end.Sub(p.started)
	cl, err := kgo.NewClient(d.e.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		offs, err := adm.FetchOffsets(ctx, group)
		if err == nil && committedAll(offs, d.Topic, d.Records) {
			r.Committed = time.Since(first)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-p.exited: // kcat -c exits by itself
	default:
		if err := p.stop(); err != nil {
			return err
		}
	}
	if p.err != nil && p.cmd != nil {
		return p.err
	}
	if p.cmd != nil {
		st := p.cmd.ProcessState
		r.CPU = st.UserTime() + st.SystemTime()
	}
	return nil
}

// waitLines polls path every 5 ms until it holds n lines; exited closing
// first is an error.
func waitLines(ctx context.Context, path string, n int, exited <-chan struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	lines := 0
	for {
		k, err := f.Read(buf)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if lines >= n {
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		if k > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d lines: %w", lines, n, ctx.Err())
		case <-exited:
			// A last read: the process may have written and exited since.
			if k, _ := f.Read(buf); k > 0 {
				lines += bytes.Count(buf[:k], []byte{'\n'})
				continue
			}
			return fmt.Errorf("exited after %d of %d lines", lines, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitEnd polls target's end offsets every 5 ms until they sum to the
// backlog's records.
func (d *DaemonBench) waitEnd(ctx context.Context, target string, exited <-chan struct{}) error {
	cl, err := kgo.NewClient(d.e.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		ends, err := adm.ListEndOffsets(ctx, target)
		var sum int64
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) {
				if o.Err == nil {
					sum += o.Offset
				}
			})
		}
		if sum >= int64(d.Records) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d copies: %w", sum, d.Records, ctx.Err())
		case <-exited:
			return fmt.Errorf("exited after %d of %d copies", sum, d.Records)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// startRaw runs the raw loop in a goroutine: one franz-go client with the
// runtime's fetch settings and its producer's (acks=all, idempotent, no
// linger, uncompressed); per poll it produces a copy of every record to
// target, waits for every ack and commits the polled records.
func (d *DaemonBench) startRaw(ctx context.Context, group, target string) *proc {
	ctx, cancel := context.WithCancel(ctx)
	d.e.armFetchClock()
	p := &proc{started: time.Now(), exited: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(p.exited)
		p.err = d.rawForward(ctx, group, target)
	}()
	return p
}

func (d *DaemonBench) rawForward(ctx context.Context, group, target string) error {
	cl, err := kgo.NewClient(append(d.e.ProducerOpts(),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(d.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxPartitionBytes(FetchPartitionBytes),
		kgo.FetchMaxWait(FetchMaxWait),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	var (
		wg     sync.WaitGroup
		failed firstError
	)
	promise := func(_ *kgo.Record, err error) {
		failed.set(err)
		wg.Done()
	}
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fs.Err0(); err != nil {
			return err
		}
		recs := fs.Records()
		for _, r := range recs {
			wg.Add(1)
			cl.Produce(ctx, &kgo.Record{Topic: target, Key: r.Key, Value: r.Value, Headers: r.Headers}, promise)
		}
		wg.Wait()
		if err := failed.get(); err != nil {
			return err
		}
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			return err
		}
	}
}

// CompareDaemon runs every side rounds times, alternating the order of
// the sides between rounds, and returns each side's runs.
func (d *DaemonBench) CompareDaemon(ctx context.Context, sides []DaemonSide, rounds int) ([][]DaemonResult, error) {
	return alternateRuns(len(sides), rounds, func(i int) (DaemonResult, error) { return d.Run(ctx, sides[i]) })
}

// Best is the fastest of rs.
func Best(rs []DaemonResult) DaemonResult {
	return slices.MinFunc(rs, func(a, b DaemonResult) int { return int(a.Span - b.Span) })
}

// DaemonTable is the daemon scenario's table: runs holds, for the sides
// kcat, the log kind, the raw loop and the forward kind in that order,
// each side's rounds.
func DaemonTable(n, rounds int, runs [][]DaemonResult) Table {
	t := Table{
		Title: "7. Daemon throughput",
		Method: fmt.Sprintf("The stock binary (`actord start --config`, built once; one consumer at the defaults: partition ordering, commit every 1 s) over %s JSON records of %d bytes on 3 partitions (1,000 keys), written once; every run under a fresh group, best of %d rounds (side order reversed every other round). "+
			"Log: kcat %s (`kcat -G <group> -J -o beginning -c N`, stdout to a file) against the log handler to a file; forward: a raw franz-go loop in the bench process (poll, produce every record to a fresh 3-partition topic with acks=all, idempotent, no linger, uncompressed as actord's producer, wait for the acks, commit) against the forward handler. "+
			"Time runs from the side's first fetch at the broker (the group join is not counted) to its output complete: every line in the file, or every copy acknowledged (the target's end offsets, polled every 5 ms); \"from start\" from the process's start instead, \"committed\" to the group's offsets at the backlog's end. "+
			"CPU is the child process's.", thousands(n), ValueSize, rounds, kcatVersion()),
		Header: []string{"side", "records/s", "ratio", "time", "from start", "committed", "CPU/record"},
	}
	best := make([]DaemonResult, len(runs))
	for i, rs := range runs {
		best[i] = Best(rs)
	}
	// Each side against its pair's reference: kcat, the raw loop.
	ratio := func(i int) float64 { return best[i].Rate() / best[i/2*2].Rate() }
	for i, r := range best {
		cpu := "-"
		if r.CPU > 0 {
			cpu = fmt.Sprintf("%.2f µs", float64(r.CPU.Nanoseconds())/1e3/float64(r.Records))
		}
		committed := "not within 15 s"
		if r.Committed > 0 {
			committed = Millis(r.Committed)
		}
		t.Rows = append(t.Rows, []string{r.Side.String(), Rate(r.Rate()), Ratio(ratio(i)), Millis(r.Span), Millis(r.Wall), committed, cpu})
	}
	if len(best) == 4 {
		t.Targets = append(t.Targets,
			Target{What: fmt.Sprintf("log handler / kcat >= %.1f", DaemonLogTarget), Got: fmt.Sprintf("%.2f", ratio(1)), Met: ratio(1) >= DaemonLogTarget},
			Target{What: fmt.Sprintf("forward handler / raw loop >= %.1f", DaemonForwardTarget), Got: fmt.Sprintf("%.2f", ratio(3)), Met: ratio(3) >= DaemonForwardTarget},
		)
	}
	return t
}

// kcatVersion is kcat's version line's version, as `kcat -V` prints it.
func kcatVersion() string {
	out, _ := exec.Command("kcat", "-V").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Version "); ok {
			if i := strings.Index(v, " ("); i > 0 {
				v = v[:i]
			}
			return v
		}
	}
	return "(version unknown)"
}
