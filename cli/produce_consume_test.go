package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// decodeJSONLines parses `consume -o json` output, one object per line.
func decodeJSONLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", l, err)
		}
		objs = append(objs, m)
	}
	return objs
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)

	out := mustRunCLI(t, ctx, "a\nb b\n\nlast-without-newline",
		"produce", "orders", "--brokers", addr, "--key", "customer-7",
		"--header", "source=cli", "--header", "trace=x=y")
	if want := "produced 4 records to orders\n"; out != want {
		t.Fatalf("produce stdout %q, want %q", out, want)
	}

	out = mustRunCLI(t, ctx, "", "consume", "orders", "--brokers", addr, "--from-beginning", "-n", "4", "-o", "json")
	recs := decodeJSONLines(t, out)
	wantValues := []string{"a", "b b", "", "last-without-newline"}
	if len(recs) != len(wantValues) {
		t.Fatalf("consume printed %d records, want %d:\n%s", len(recs), len(wantValues), out)
	}
	wantFields := []string{"headers", "key", "offset", "partition", "timestamp", "topic", "value"}
	for i, r := range recs {
		var fields []string
		for k := range r {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		if !slices.Equal(fields, wantFields) {
			t.Errorf("record %d fields %v, want exactly %v", i, fields, wantFields)
		}
		if r["topic"] != "orders" || r["partition"] != 0.0 || r["offset"] != float64(i) {
			t.Errorf("record %d at %v/%v@%v, want orders/0@%d", i, r["topic"], r["partition"], r["offset"], i)
		}
		if r["key"] != "customer-7" || r["value"] != wantValues[i] {
			t.Errorf("record %d key %q value %q, want customer-7 and %q", i, r["key"], r["value"], wantValues[i])
		}
		hs, _ := r["headers"].(map[string]any)
		if len(hs) != 2 || hs["source"] != "cli" || hs["trace"] != "x=y" {
			t.Errorf("record %d headers %v, want source=cli trace=x=y", i, r["headers"])
		}
		ts, _ := r["timestamp"].(string)
		if parsed, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") ||
			time.Since(parsed) > time.Minute || time.Since(parsed) < -time.Minute {
			t.Errorf("record %d timestamp %q: want recent RFC3339Nano in UTC (%v)", i, ts, err)
		}
	}

	// Plain output is the values, one per line, as produce read them.
	out = mustRunCLI(t, ctx, "", "consume", "orders", "--brokers", addr, "--from-beginning", "-n", "4")
	if want := strings.Join(wantValues, "\n") + "\n"; out != want {
		t.Fatalf("plain consume printed %q, want %q", out, want)
	}
}

func TestConsumeJSONWithoutKey(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	mustRunCLI(t, ctx, "v\n", "produce", "nokey", "--brokers", addr)
	r := decodeJSONLines(t, mustRunCLI(t, ctx, "", "consume", "nokey", "--brokers", addr, "--from-beginning", "-n", "1", "-o", "json"))[0]
	if k, ok := r["key"]; !ok || k != nil {
		t.Errorf("key = %v (present %v), want null", k, ok)
	}
	if hs, ok := r["headers"].(map[string]any); !ok || len(hs) != 0 {
		t.Errorf("headers = %v, want {}", r["headers"])
	}
}

func TestRecordJSONBinary(t *testing.T) {
	r := &kgo.Record{Topic: "t", Key: []byte{0xff}, Value: []byte("ok"),
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{0xfe, 0x00}}}, Timestamp: time.Unix(0, 0)}
	b, err := json.Marshal(recordJSON(r))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"topic":"t","partition":0,"offset":0,"key":{"base64":"/w=="},"headers":{"h":{"base64":"/gA="}},"value":"ok","timestamp":"1970-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Fatalf("recordJSON = %s\nwant          %s", b, want)
	}
}

func TestProduceLongLine(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	// Past a batch (1,000,012 bytes: sent alone) and within the broker's
	// max.message.bytes (1 MiB) uncompressed, as produce sends it by default.
	long := strings.Repeat("x", 1<<20-1024)
	out := mustRunCLI(t, ctx, "before\n"+long+"\nafter\n", "produce", "big", "--brokers", addr)
	if want := "produced 3 records to big\n"; out != want {
		t.Fatalf("produce stdout %q, want %q", out, want)
	}
	out = mustRunCLI(t, ctx, "", "consume", "big", "--brokers", addr, "--from-beginning", "-n", "3")
	if want := "before\n" + long + "\nafter\n"; out != want {
		t.Fatalf("consume printed %d bytes, want %d (order and content intact)", len(out), len(want))
	}
}

func TestConsumeStopsAfterN(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	mustRunCLI(t, ctx, "1\n2\n3\n4\n5\n", "produce", "five", "--brokers", addr)
	out := mustRunCLI(t, ctx, "", "consume", "five", "--brokers", addr, "--from-beginning", "-n", "2")
	if out != "1\n2\n" {
		t.Fatalf("consume -n 2 printed %q, want the first two records", out)
	}
}

// TestConsumeStartsAtLatest: without --from-beginning, records written
// before the consumer started are not printed. The new records are
// produced until the consumer has printed one, as nothing says when it
// has looked up the latest offsets.
func TestConsumeStartsAtLatest(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	mustRunCLI(t, ctx, "old\n", "produce", "latest", "--brokers", addr)

	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, ctx, "", "consume", "latest", "--brokers", addr, "-n", "1") }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case res := <-done:
			if res.code != 0 || res.stdout != "new\n" {
				t.Fatalf("consume -n 1: exit %d, stdout %q, stderr %q; want new", res.code, res.stdout, res.stderr)
			}
			return
		case <-tick.C:
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "latest", Value: []byte("new")}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
		case <-ctx.Done():
			t.Fatal("consume never printed a new record")
		}
	}
}

func TestConsumeGroupCommitsPrinted(t *testing.T) {
	ctx := deadlineCtx(t, 90*time.Second)
	addr := startTestBroker(t)
	mustRunCLI(t, ctx, "a\nb\nc\nd\ne\n", "produce", "work", "--brokers", addr)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	committed := func() int64 {
		t.Helper()
		offs, err := adm.FetchOffsets(ctx, "audit")
		if err == nil {
			err = offs.Error()
		}
		if err != nil {
			t.Fatalf("fetch offsets of group audit: %v", err)
		}
		o, ok := offs.Lookup("work", 0)
		if !ok {
			return -1
		}
		return o.At
	}

	out := mustRunCLI(t, ctx, "", "consume", "work", "--brokers", addr, "--group", "audit", "--from-beginning", "-n", "3")
	if out != "a\nb\nc\n" {
		t.Fatalf("first run printed %q, want a b c", out)
	}
	if got := committed(); got != 3 {
		t.Fatalf("after printing 3 records the group committed offset %d, want 3", got)
	}
	// The committed offset wins over the reset offset on the next run.
	out = mustRunCLI(t, ctx, "", "consume", "work", "--brokers", addr, "--group", "audit", "--from-beginning", "-n", "2")
	if out != "d\ne\n" {
		t.Fatalf("second run printed %q, want d e", out)
	}
	if got := committed(); got != 5 {
		t.Fatalf("after the second run the group committed offset %d, want 5", got)
	}
}

func TestProduceBadHeaderSendsNothing(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	addr := startTestBroker(t)
	res := runCLI(t, ctx, "a\n", "produce", "never", "--brokers", addr, "--header", "ok=1", "--header", "no-equals")
	assertOneLineError(t, res.code, res.stderr, "--header", "no-equals")
	if res.stdout != "" {
		t.Errorf("stdout %q, want nothing", res.stdout)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("never") {
		t.Fatalf("topic never exists after a rejected produce")
	}
}

func TestFlagErrors(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"consume negative count", []string{"consume", "t", "-n", "-1"}, "-n"},
		{"consume bad output", []string{"consume", "t", "-o", "yaml"}, "yaml"},
		{"produce without topic", []string{"produce"}, "produce"},
		{"consume two topics", []string{"consume", "a", "b"}, "consume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, ctx, "", tt.args...)
			assertOneLineError(t, res.code, res.stderr, tt.want)
		})
	}
}

func TestUnreachableBrokerFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a closed port: connection refused

	tests := []struct {
		name string
		args []string
	}{
		{"produce", []string{"produce", "orders", "--brokers", addr}},
		{"consume", []string{"consume", "orders", "--brokers", addr, "-n", "1"}},
		{"consume group", []string{"consume", "orders", "--brokers", addr, "--group", "g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := deadlineCtx(t, 15*time.Second)
			res := runCLI(t, ctx, "a\n", tt.args...)
			assertOneLineError(t, res.code, res.stderr, addr, "actord broker", "--embedded")
		})
	}
}

// TestProduceReportsAcknowledgedBeforeFailure: a record the broker
// refuses (larger than its message.max.bytes even compressed) stops the
// command, which says how many records made it.
func TestProduceReportsAcknowledgedBeforeFailure(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	random := make([]byte, 3<<20) // base64 of random bytes: snappy cannot shrink it below 1 MiB
	rand.NewChaCha8([32]byte{1}).Read(random)
	stdin := "a\nb\n" + base64.StdEncoding.EncodeToString(random) + "\nnever\n"

	res := runCLI(t, ctx, stdin, "produce", "limits", "--brokers", addr)
	assertOneLineError(t, res.code, res.stderr, "produced 2 records to limits", "MESSAGE_TOO_LARGE")
	out := mustRunCLI(t, ctx, "", "consume", "limits", "--brokers", addr, "--from-beginning", "-n", "2")
	if out != "a\nb\n" {
		t.Fatalf("topic holds %q, want a b", out)
	}
}

// TestConsumeGroupCommitsOnSignal: without -n the command runs until the
// signal (its context), then commits what it printed and exits 0.
func TestConsumeGroupCommitsOnSignal(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	mustRunCLI(t, ctx, "a\nb\nc\n", "produce", "stream", "--brokers", addr)

	runCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"consume", "stream", "--brokers", addr, "--group", "tail", "--from-beginning"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for stdout.String() != "a\nb\nc\n" {
		select {
		case <-tick.C:
		case code := <-done:
			t.Fatalf("consume exited %d before the signal; stdout %q, stderr %q", code, stdout.String(), stderr.String())
		case <-ctx.Done():
			t.Fatalf("consume printed %q before the deadline, want a b c", stdout.String())
		}
	}
	interrupt()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("consume after the signal: exit %d, stderr %q, want 0", code, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("consume still running after the signal")
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "tail")
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("stream", 0); !ok || o.At != 3 {
		t.Fatalf("group tail committed %+v (found %v), want offset 3", o, ok)
	}
}
