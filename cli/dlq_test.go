package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	dlqpkg "github.com/actord/actord/dlq"
)

// dlqCLI runs actord in-process like runCLI. Until root.go registers the
// dlq command, it adds it to a root built the same way and maps errors as
// run does.
func dlqCLI(t *testing.T, ctx context.Context, args ...string) cliResult {
	t.Helper()
	probe := &app{flagKeys: map[string]any{}}
	if c, _, err := probe.rootCmd().Find([]string{"dlq"}); err == nil && c.Name() == "dlq" {
		return runCLI(t, ctx, "", args...)
	}
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, flagKeys: map[string]any{}}
		root := a.rootCmd()
		root.AddCommand(a.dlqCmd())
		root.SetArgs(args)
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		err := root.ExecuteContext(ctx)
		var ee *exitError
		switch {
		case err == nil:
			done <- 0
		case errors.As(err, &ee):
			if ee.msg != "" {
				fmt.Fprintln(&stderr, "actord: "+ee.msg)
			}
			done <- ee.code
		default:
			fmt.Fprintln(&stderr, "actord: "+oneLine(err.Error()))
			done <- 1
		}
	}()
	select {
	case code := <-done:
		return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	case <-ctx.Done():
		t.Fatalf("actord %s: still running at the deadline; stdout %q, stderr %q",
			strings.Join(args, " "), stdout.String(), stderr.String())
		return cliResult{}
	}
}

// mustDlqCLI is dlqCLI that fails the test unless actord exits 0.
func mustDlqCLI(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	res := dlqCLI(t, ctx, args...)
	if res.code != 0 {
		t.Fatalf("actord %s: exit %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// dlqTestClient is a plain client on addr, closed with the test.
func dlqTestClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// dlqCreateTopic creates topic with n partitions.
func dlqCreateTopic(t *testing.T, ctx context.Context, addr, topic string, n int32) {
	t.Helper()
	resp, err := kadm.NewClient(dlqTestClient(t, addr)).CreateTopic(ctx, n, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// dlqSourceRecord is the i-th record of topic as a consumer saw it before
// giving up on it.
func dlqSourceRecord(topic string, i int) *kgo.Record {
	return &kgo.Record{
		Topic:     topic,
		Partition: int32(i % 2),
		Offset:    int64(100 + i),
		Key:       fmt.Appendf(nil, "key-%d", i),
		Value:     fmt.Appendf(nil, "value-%d", i),
		Headers:   []kgo.RecordHeader{{Key: "trace", Value: fmt.Appendf(nil, "trace-%d", i)}},
		Timestamp: time.Now().Add(-time.Minute),
	}
}

// dlqWriteDeadLetters writes the dead letters of srcs to dlq (which exists, as
// the runtime creates it) the way the runtime does
// (dlq.Record), after edit (optional) had its say, and waits
// for their acknowledgement.
func dlqWriteDeadLetters(t *testing.T, ctx context.Context, addr, dlq string, srcs []*kgo.Record, edit func(i int, dl *kgo.Record)) {
	t.Helper()
	cl := dlqTestClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	dls := make([]*kgo.Record, len(srcs))
	for i, src := range srcs {
		dls[i] = dlqpkg.Record(dlq, src, dlqpkg.Failure{
			Group: "processor", Attempts: 3, Err: errors.New("boom"), FailedAt: time.Now(),
		})
		if edit != nil {
			edit(i, dls[i])
		}
	}
	if err := cl.ProduceSync(ctx, dls...).FirstErr(); err != nil {
		t.Fatalf("write dead letters to %s: %v", dlq, err)
	}
}

// dlqWithoutHeader removes the header key from r.
func dlqWithoutHeader(r *kgo.Record, key string) {
	r.Headers = slices.DeleteFunc(r.Headers, func(h kgo.RecordHeader) bool { return h.Key == key })
}

// dlqReadTopic returns every record of topic up to its current end offsets.
func dlqReadTopic(t *testing.T, ctx context.Context, addr, topic string) []*kgo.Record {
	t.Helper()
	ends, err := kadm.NewClient(dlqTestClient(t, addr)).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := 0
	ends.Each(func(o kadm.ListedOffset) { want += int(o.Offset) })
	if want == 0 {
		return nil
	}
	cl := dlqTestClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records before the deadline", topic, len(got), want)
		}
		got = append(got, fetches.Records()...)
	}
	return got
}

// dlqCommitted is group's committed offset of topic partition p, -1 if none.
func dlqCommitted(t *testing.T, ctx context.Context, addr, group, topic string, p int32) int64 {
	t.Helper()
	offs, err := kadm.NewClient(dlqTestClient(t, addr)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	if o, ok := offs.Lookup(topic, p); ok {
		return o.At
	}
	return -1
}

// dlqAssertReplayed checks that topic holds exactly the copies of srcs, with
// their key, value and own headers and no actord.dlq.* header. Records are
// matched by key, as a topic of several partitions is read partition by
// partition.
func dlqAssertReplayed(t *testing.T, ctx context.Context, addr, topic string, srcs []*kgo.Record) {
	t.Helper()
	got := dlqSortedByKey(dlqReadTopic(t, ctx, addr, topic))
	srcs = dlqSortedByKey(slices.Clone(srcs))
	if len(got) != len(srcs) {
		t.Fatalf("%s holds %d records, want %d", topic, len(got), len(srcs))
	}
	for i, r := range got {
		src := srcs[i]
		if string(r.Key) != string(src.Key) || string(r.Value) != string(src.Value) {
			t.Errorf("%s record %d: key %q value %q, want %q %q", topic, i, r.Key, r.Value, src.Key, src.Value)
		}
		if !slices.EqualFunc(r.Headers, src.Headers, func(a, b kgo.RecordHeader) bool {
			return a.Key == b.Key && string(a.Value) == string(b.Value)
		}) {
			t.Errorf("%s record %d: headers %v, want only %v", topic, i, r.Headers, src.Headers)
		}
	}
}

func TestDlqList(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	// Three partitions, the middle one empty: list must not wait on it.
	dlqCreateTopic(t, ctx, addr, "orders.dlq", 3)
	srcs := []*kgo.Record{dlqSourceRecord("orders", 0), dlqSourceRecord("orders", 1), dlqSourceRecord("orders", 2)}
	dlqWriteDeadLetters(t, ctx, addr, "orders.dlq", srcs, func(i int, dl *kgo.Record) {
		dl.Partition = []int32{0, 2, 0}[i]
	})

	out := mustDlqCLI(t, ctx, "dlq", "list", "orders.dlq", "--brokers", addr)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want a header and 3 rows:\n%s", len(lines), out)
	}
	for _, col := range []string{"PARTITION", "OFFSET", "SOURCE TOPIC", "ATTEMPTS", "FAILED AT", "ERROR"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q: want column %s", lines[0], col)
		}
	}
	for _, row := range lines[1:] {
		f := strings.Fields(row)
		if len(f) != 8 || f[2] != "orders" || f[5] != "3" || f[7] != "boom" {
			t.Errorf("row %q: want partition, offset, orders, source partition and offset, 3 attempts, failed at, boom", row)
		}
		if _, err := time.Parse(time.RFC3339, f[6]); err != nil {
			t.Errorf("row %q: failed at %q is not RFC 3339", row, f[6])
		}
	}

	out = mustDlqCLI(t, ctx, "dlq", "list", "orders.dlq", "--brokers", addr, "-o", "json")
	recs := decodeJSONLines(t, out)
	if len(recs) != 3 {
		t.Fatalf("json printed %d records, want 3:\n%s", len(recs), out)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if r["topic"] != "orders.dlq" || r["timestamp"] == nil || r["headers"] == nil {
			t.Errorf("record %v: want the fields of consume -o json", r)
		}
		d, _ := r["dlq"].(map[string]any)
		if d == nil || d["topic"] != "orders" || d["error"] != "boom" || d["attempts"] != 3.0 || d["group"] != "processor" {
			t.Fatalf("dlq object %v: want topic orders, error boom, 3 attempts, group processor", r["dlq"])
		}
		seen[r["key"].(string)] = true
		i := int(d["offset"].(float64)) - 100
		if r["key"] != fmt.Sprintf("key-%d", i) || d["partition"] != float64(i%2) {
			t.Errorf("record key %v with dlq %v: original coordinates do not match", r["key"], d)
		}
		for _, k := range []string{"timestamp", "failed_at"} {
			if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(d[k])); err != nil {
				t.Errorf("dlq.%s %v: want RFC 3339", k, d[k])
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("json keys %v: want the 3 dead letters", seen)
	}
}

func TestDlqListEmptyTopic(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	addr := startTestBroker(t)
	dlqCreateTopic(t, ctx, addr, "empty.dlq", 2)
	for _, o := range []string{"table", "json"} {
		out := mustDlqCLI(t, ctx, "dlq", "list", "empty.dlq", "--brokers", addr, "-o", o)
		if n := strings.Count(out, "\n"); (o == "table" && n != 1) || (o == "json" && n != 0) {
			t.Errorf("-o %s on an empty DLQ printed %q, want only the table header or nothing", o, out)
		}
	}
}

func TestDlqReplayRoundTrip(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	dlqCreateTopic(t, ctx, addr, "orders", 2)
	dlqCreateTopic(t, ctx, addr, "orders.dlq", 1)
	var srcs []*kgo.Record
	for i := range 5 {
		srcs = append(srcs, dlqSourceRecord("orders", i))
	}
	dlqWriteDeadLetters(t, ctx, addr, "orders.dlq", srcs, nil)

	out := mustDlqCLI(t, ctx, "dlq", "replay", "orders.dlq", "--brokers", addr)
	if want := "replayed 5 records from orders.dlq to orders\n"; out != want {
		t.Fatalf("replay printed %q, want %q", out, want)
	}
	dlqAssertReplayed(t, ctx, addr, "orders", srcs)
	if got := dlqCommitted(t, ctx, addr, "actord-dlq-replay-orders.dlq", "orders.dlq", 0); got != 5 {
		t.Errorf("replay group committed offset %d, want the DLQ end offset 5", got)
	}

	out = mustDlqCLI(t, ctx, "dlq", "replay", "orders.dlq", "--brokers", addr)
	if want := "replayed 0 records from orders.dlq\n"; out != want {
		t.Fatalf("second replay printed %q, want %q", out, want)
	}
	if got := len(dlqReadTopic(t, ctx, addr, "orders")); got != 5 {
		t.Errorf("orders holds %d records after the second replay, want 5", got)
	}
}

// dlqSortedByKey orders records by key; a topic of several partitions is
// read partition by partition.
func dlqSortedByKey(rs []*kgo.Record) []*kgo.Record {
	slices.SortFunc(rs, func(a, b *kgo.Record) int { return strings.Compare(string(a.Key), string(b.Key)) })
	return rs
}

func TestDlqReplayResumesAfterFailure(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	dlqCreateTopic(t, ctx, addr, "orders", 1)
	dlqCreateTopic(t, ctx, addr, "orders.dlq", 1)
	var srcs []*kgo.Record
	for i := range 5 {
		srcs = append(srcs, dlqSourceRecord("orders", i))
	}
	dlqWriteDeadLetters(t, ctx, addr, "orders.dlq", srcs, func(i int, dl *kgo.Record) {
		if i == 2 {
			dlqWithoutHeader(dl, actors.HeaderDLQTopic)
		}
	})
	const group = "actord-dlq-replay-orders.dlq"

	res := dlqCLI(t, ctx, "dlq", "replay", "orders.dlq", "--brokers", addr)
	assertOneLineError(t, res.code, res.stderr, "replayed 2 records", "partition 0 offset 2", actors.HeaderDLQTopic, "--to")
	if res.stdout != "" {
		t.Errorf("failed replay printed %q on stdout, want nothing", res.stdout)
	}
	dlqAssertReplayed(t, ctx, addr, "orders", srcs[:2])
	if got := dlqCommitted(t, ctx, addr, group, "orders.dlq", 0); got != 2 {
		t.Fatalf("after the failure the group committed offset %d, want 2 (the replayed ones only)", got)
	}

	out := mustDlqCLI(t, ctx, "dlq", "replay", "orders.dlq", "--brokers", addr, "--to", "orders")
	if want := "replayed 3 records from orders.dlq to orders\n"; out != want {
		t.Fatalf("resumed replay printed %q, want %q", out, want)
	}
	dlqAssertReplayed(t, ctx, addr, "orders", srcs) // 5, not 7
	if got := dlqCommitted(t, ctx, addr, group, "orders.dlq", 0); got != 5 {
		t.Errorf("after the resumed replay the group committed offset %d, want 5", got)
	}
}

func TestDlqReplayDestinations(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		group string
		want  string
		holds map[string]int // records per destination topic afterwards
	}{
		{
			name:  "original topics",
			group: "actord-dlq-replay-mixed.dlq",
			want:  "replayed 3 records from mixed.dlq to orders (2), payments (1)\n",
			holds: map[string]int{"orders": 2, "payments": 1},
		},
		{
			name:  "--to overrides",
			flags: []string{"--to", "retry", "--group", "retry-run"},
			group: "retry-run",
			want:  "replayed 3 records from mixed.dlq to retry\n",
			holds: map[string]int{"retry": 3, "orders": 0, "payments": 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := deadlineCtx(t, 60*time.Second)
			addr := startTestBroker(t)
			for _, topic := range []string{"orders", "payments", "retry", "mixed.dlq"} {
				dlqCreateTopic(t, ctx, addr, topic, 1)
			}
			srcs := []*kgo.Record{dlqSourceRecord("orders", 0), dlqSourceRecord("payments", 1), dlqSourceRecord("orders", 2)}
			dlqWriteDeadLetters(t, ctx, addr, "mixed.dlq", srcs, nil)

			out := mustDlqCLI(t, ctx, append([]string{"dlq", "replay", "mixed.dlq", "--brokers", addr}, tc.flags...)...)
			if out != tc.want {
				t.Errorf("replay printed %q, want %q", out, tc.want)
			}
			for topic, n := range tc.holds {
				if got := len(dlqReadTopic(t, ctx, addr, topic)); got != n {
					t.Errorf("%s holds %d records, want %d", topic, got, n)
				}
			}
			if got := dlqCommitted(t, ctx, addr, tc.group, "mixed.dlq", 0); got != 3 {
				t.Errorf("group %s committed offset %d, want 3", tc.group, got)
			}
		})
	}
}

func TestDlqErrors(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	dlqCreateTopic(t, ctx, addr, "orders.dlq", 1)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"list unknown topic", []string{"dlq", "list", "nope.dlq"}, []string{`dead-letter topic "nope.dlq" does not exist`}},
		{"replay unknown topic", []string{"dlq", "replay", "nope.dlq"}, []string{`dead-letter topic "nope.dlq" does not exist`}},
		{"replay to itself", []string{"dlq", "replay", "orders.dlq", "--to", "orders.dlq"}, []string{"--to", "dead-letter topic itself"}},
		{"list bad output", []string{"dlq", "list", "orders.dlq", "-o", "yaml"}, []string{"-o"}},
		{"no topic", []string{"dlq", "list"}, []string{"want one TOPIC"}},
		{"unknown subcommand", []string{"dlq", "purge", "orders.dlq"}, []string{`unknown command "purge"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := dlqCLI(t, ctx, append(tc.args, "--brokers", addr)...)
			assertOneLineError(t, res.code, res.stderr, tc.want...)
		})
	}
	// Asking about an unknown DLQ does not create it.
	ends, err := kadm.NewClient(dlqTestClient(t, addr)).ListEndOffsets(ctx, "nope.dlq")
	if err == nil {
		err = ends.Error()
	}
	if err == nil {
		t.Errorf("nope.dlq exists after dlq list and replay; want them to leave it uncreated")
	}
}

func TestDlqReplayGroupHeldElsewhere(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	dlqCreateTopic(t, ctx, addr, "orders", 1)
	dlqCreateTopic(t, ctx, addr, "held.dlq", 1)
	dlqWriteDeadLetters(t, ctx, addr, "held.dlq", []*kgo.Record{dlqSourceRecord("orders", 0)}, nil)
	const group = "actord-dlq-replay-held.dlq"

	// Another member of the replay group holds the only partition.
	holding := make(chan struct{})
	holder := dlqTestClient(t, addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics("held.dlq"), kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, added map[string][]int32) {
			if len(added["held.dlq"]) > 0 {
				close(holding)
			}
		}))
	go holder.PollFetches(ctx)
	select {
	case <-holding:
	case <-ctx.Done():
		t.Fatal("the holder was not assigned held.dlq before the deadline")
	}

	// The replay gives up after kafka.request_timeout instead of waiting.
	t.Setenv("ACTORD_KAFKA_REQUEST_TIMEOUT", "2s")
	res := dlqCLI(t, ctx, "dlq", "replay", "held.dlq", "--brokers", addr)
	assertOneLineError(t, res.code, res.stderr, "replayed 0 records", "group "+group, "no partition within 2s")
	if got := len(dlqReadTopic(t, ctx, addr, "orders")); got != 0 {
		t.Errorf("orders holds %d records, want none", got)
	}
}
