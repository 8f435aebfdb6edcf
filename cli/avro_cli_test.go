package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/schema"
)

// orderAvsc exercises what the JSON form of a record must get right: a long
// beyond float64's exact range, an enum, a timestamp, a date in a union, a
// decimal, nested records in an array, a map, a null, a double.
const orderAvsc = `{"type":"record","name":"Order","namespace":"shop","fields":[
	{"name":"order_id","type":"string"},
	{"name":"amount","type":"long"},
	{"name":"qty","type":"int"},
	{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
	{"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"ship_on","type":["null",{"type":"int","logicalType":"date"}],"default":null},
	{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
	{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
		{"name":"sku","type":"string"},{"name":"quantity","type":"int"}]}}},
	{"name":"tags","type":{"type":"map","values":"string"},"default":{}},
	{"name":"note","type":["null","string"],"default":null},
	{"name":"ratio","type":"double"}]}`

// orderLine is a line that fits orderAvsc, written the way consume prints
// it (fields in schema order, no spaces), so consume must print it back
// byte for byte.
func orderLine(id string) string {
	return `{"order_id":"` + id + `","amount":9007199254740993,"qty":2,"status":"NEW",` +
		`"created_at":"2024-05-01T12:00:00.123Z","ship_on":"2024-05-03","price":12.50,` +
		`"items":[{"sku":"a<b>&c","quantity":1}],"tags":{"source":"cli"},"note":null,"ratio":0.25}`
}

// pingAvsc and its next version: v2 widens n to long and adds a field with
// a default, so a v1 body never reads as v2.
const (
	pingAvsc   = `{"type":"record","name":"Ping","fields":[{"name":"id","type":"string"},{"name":"n","type":"int"}]}`
	pingV2Avsc = `{"type":"record","name":"Ping","fields":[{"name":"id","type":"string"},{"name":"n","type":"long"},
		{"name":"extra","type":"string","default":"x"}]}`
)

// decodeJSONNumbers parses one JSON value keeping numbers as json.Number,
// so that a long is compared digit for digit and an int is seen to be a
// number, not a string.
func decodeJSONNumbers(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%q is not JSON: %v", s, err)
	}
	return v
}

// rawValues reads the first n record values of a single-partition topic
// with a plain franz-go client.
func rawValues(t *testing.T, ctx context.Context, addr, topic string, n int) [][]byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var vals [][]byte
	for len(vals) < n {
		fs := cl.PollRecords(ctx, n-len(vals))
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s before the deadline", len(vals), n, topic)
		}
		if err := fs.Err(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) { vals = append(vals, r.Value) })
	}
	return vals
}

// recordCount is how many records topic holds (0 if it does not exist).
// produce flushes before it exits, so the count is final when it returns.
func recordCount(t *testing.T, ctx context.Context, addr, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !topics.Has(topic) {
		return 0
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", topic, o.Partition, o.Err)
		}
		n += o.Offset
	})
	return n
}

func TestProduceConsumeAvroRoundTrip(t *testing.T) {
	ctx := deadlineCtx(t, 90*time.Second)
	addr := startTestBroker(t)
	avsc := writeFile(t, t.TempDir(), "order.avsc", orderAvsc)

	// Line 2 leaves out the fields with defaults and spells values the
	// other ways produce accepts them; consume prints them its one way.
	line2 := `{"qty": 0, "order_id": "o-2", "amount": -5, "status": "PAID", "created_at": 0,
		"price": "0.01", "items": [], "ratio": 1e300}`
	line2 = strings.ReplaceAll(line2, "\n", "")
	want2 := `{"order_id":"o-2","amount":-5,"qty":0,"status":"PAID","created_at":"1970-01-01T00:00:00Z",` +
		`"ship_on":null,"price":0.01,"items":[],"tags":{},"note":null,"ratio":1e+300}`
	out := mustRunCLI(t, ctx, orderLine("o-1")+"\n"+line2+"\n", "produce", "orders", "--brokers", addr, "--schema", avsc)
	if want := "produced 2 records to orders\n"; out != want {
		t.Fatalf("produce stdout %q, want %q", out, want)
	}

	// -o json: value is the record as a JSON object, equal to the input.
	out = mustRunCLI(t, ctx, "", "consume", "orders", "--brokers", addr, "--from-beginning", "-n", "2", "-o", "json", "--schema", avsc)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("consume -o json printed %d lines, want 2:\n%s", len(lines), out)
	}
	for i, want := range []string{orderLine("o-1"), want2} {
		rec, _ := decodeJSONNumbers(t, lines[i]).(map[string]any)
		if rec["topic"] != "orders" || rec["offset"] != json.Number(fmt.Sprint(i)) {
			t.Errorf("record %d: topic %v offset %v, want orders %d", i, rec["topic"], rec["offset"], i)
		}
		value, ok := rec["value"].(map[string]any)
		if !ok {
			t.Fatalf("record %d: value %#v, want a JSON object", i, rec["value"])
		}
		if !reflect.DeepEqual(value, decodeJSONNumbers(t, want)) {
			t.Errorf("record %d: value\n%v\nwant\n%v", i, value, decodeJSONNumbers(t, want))
		}
		if _, isNumber := value["qty"].(json.Number); !isNumber {
			t.Errorf("record %d: qty %#v, want a JSON number", i, value["qty"])
		}
	}
	if !strings.Contains(out, `"sku":"a<b>&c"`) {
		t.Errorf("consume -o json escaped HTML characters:\n%s", out)
	}

	// Plain output: one line of JSON per record, fields in schema order.
	plain := mustRunCLI(t, ctx, "", "consume", "orders", "--brokers", addr, "--from-beginning", "-n", "2", "--schema", avsc)
	if want := orderLine("o-1") + "\n" + want2 + "\n"; plain != want {
		t.Fatalf("plain consume printed\n%s\nwant\n%s", plain, want)
	}

	// consume | produce copies records: the same bytes on the wire.
	out = mustRunCLI(t, ctx, plain, "produce", "orders-copy", "--brokers", addr, "--schema", avsc)
	if want := "produced 2 records to orders-copy\n"; out != want {
		t.Fatalf("produce of the copy: stdout %q, want %q", out, want)
	}
	orig, copied := rawValues(t, ctx, addr, "orders", 2), rawValues(t, ctx, addr, "orders-copy", 2)
	for i := range orig {
		if !bytes.Equal(orig[i], copied[i]) {
			t.Errorf("record %d: copy is % x, original % x", i, copied[i], orig[i])
		}
	}
}

// TestProduceAvroGoldenBytes: produce --schema writes Avro single-object
// encoding: C3 01, the CRC-64-AVRO fingerprint of the schema's canonical
// form little-endian, then the Avro body.
func TestProduceAvroGoldenBytes(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	avsc := writeFile(t, t.TempDir(), "ping.avsc", pingAvsc)
	mustRunCLI(t, ctx, `{"id":"a","n":2}`+"\n", "produce", "pings", "--brokers", addr, "--schema", avsc)

	s, err := schema.Load(avsc)
	if err != nil {
		t.Fatal(err)
	}
	const fingerprint = 0x281d265e729b3867 // CRC-64-AVRO of Ping's canonical form
	if s.Fingerprint() != fingerprint {
		t.Fatalf("fingerprint %#x, want %#x", s.Fingerprint(), uint64(fingerprint))
	}
	want := []byte{
		0xC3, 0x01, // single-object marker
		0x67, 0x38, 0x9b, 0x72, 0x5e, 0x26, 0x1d, 0x28, // fingerprint, little-endian
		0x02, 'a', // id: length 1 (zig-zag), "a"
		0x04, // n: 2 (zig-zag)
	}
	if got := rawValues(t, ctx, addr, "pings", 1)[0]; !bytes.Equal(got, want) {
		t.Fatalf("record bytes % x\nwant         % x", got, want)
	}
}

// TestProduceAvroBadLineStops: a line that is not JSON or does not fit the
// schema stops produce: the error names the line and the field, the lines
// before it are in the topic, nothing from it on is.
func TestProduceAvroBadLineStops(t *testing.T) {
	ctx := deadlineCtx(t, 120*time.Second)
	addr := startTestBroker(t)
	avsc := writeFile(t, t.TempDir(), "order.avsc", orderAvsc)
	tests := []struct {
		name string
		bad  string
		want []string
	}{
		{"unknown enum symbol", strings.Replace(orderLine("o-3"), `"NEW"`, `"LOST"`, 1),
			[]string{"Order.status", `unknown enum symbol "LOST"`}},
		{"not JSON", `{"order_id": "o-3",`, []string{"not JSON"}},
		{"two values", orderLine("o-3") + " {}", []string{"not one JSON value"}},
		{"missing field", strings.Replace(orderLine("o-3"), `"qty":2,`, "", 1),
			[]string{"Order.qty", "required field missing"}},
		{"nested wrong type", strings.Replace(orderLine("o-3"), `"quantity":1`, `"quantity":"one"`, 1),
			[]string{"Order.items[0].quantity"}},
		{"int overflow", strings.Replace(orderLine("o-3"), `"qty":2`, `"qty":3000000000`, 1),
			[]string{"Order.qty", "overflows"}},
		{"unknown field", strings.Replace(orderLine("o-3"), `"qty":2`, `"qty":2,"colour":"red"`, 1),
			[]string{`unknown field "colour"`}},
		{"not an object", `["o-3"]`, []string{"want a JSON object", "a JSON array"}},
		{"empty line", "", []string{"empty line"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := fmt.Sprintf("bad-line-%d", i)
			stdin := strings.Join([]string{orderLine("o-1"), orderLine("o-2"), tt.bad, orderLine("o-4"), orderLine("o-5")}, "\n") + "\n"
			res := runCLI(t, ctx, stdin, "produce", topic, "--brokers", addr, "--schema", avsc)
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			assertOneLineError(t, res.code, res.stderr,
				append([]string{"produced 2 records to " + topic + ", then stopped: stdin line 3: "}, tt.want...)...)
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			if n := recordCount(t, ctx, addr, topic); n != 2 {
				t.Fatalf("topic holds %d records, want the 2 before the bad line", n)
			}
			out := mustRunCLI(t, ctx, "", "consume", topic, "--brokers", addr, "--from-beginning", "-n", "2", "--schema", avsc)
			if want := orderLine("o-1") + "\n" + orderLine("o-2") + "\n"; out != want {
				t.Fatalf("topic holds\n%s\nwant lines 1 and 2", out)
			}
		})
	}
}

// TestAvroBadSchemaFile: a --schema file that does not load is one error
// naming it, and nothing is sent (the topic is not even created).
func TestAvroBadSchemaFile(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	tests := []struct {
		name, content string
		want          string
	}{
		{"missing", "", "no such file"},
		{"not JSON", `{"type":"record",`, "invalid JSON"},
		{"unknown type", `{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}`, "nope"},
		{"bad default", `{"type":"record","name":"X","fields":[{"name":"a","type":"int","default":"zero"}]}`, "default"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "missing.avsc")
			if tt.content != "" {
				path = writeFile(t, t.TempDir(), fmt.Sprintf("bad-%d.avsc", i), tt.content)
			}
			topic := fmt.Sprintf("bad-schema-%d", i)
			res := runCLI(t, ctx, orderLine("o-1")+"\n", "produce", topic, "--brokers", addr, "--schema", path)
			assertOneLineError(t, res.code, res.stderr, "--schema", path, tt.want)
			if res.stdout != "" {
				t.Errorf("produce stdout %q, want nothing", res.stdout)
			}
			res = runCLI(t, ctx, "", "consume", topic, "--brokers", addr, "-n", "1", "--schema", path)
			assertOneLineError(t, res.code, res.stderr, "--schema", path, tt.want)
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			topics, err := kadm.NewClient(cl).ListTopics(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if topics.Has(topic) {
				t.Fatalf("topic %s exists after a rejected --schema", topic)
			}
		})
	}
}

// TestConsumeAvroSchemaVersions: each record is decoded with the --schema
// its fingerprint names (or, for Confluent framing, the one that reads it),
// and printed as its writer wrote it; non-Avro records print raw; an Avro
// record of an unknown schema prints raw with one note per fingerprint.
func TestConsumeAvroSchemaVersions(t *testing.T) {
	ctx := deadlineCtx(t, 90*time.Second)
	addr := startTestBroker(t)
	v1 := writeFile(t, t.TempDir(), "ping-v1.avsc", pingAvsc)
	v2 := writeFile(t, t.TempDir(), "ping-v2.avsc", pingV2Avsc)

	mustRunCLI(t, ctx, `{"id":"a","n":1}`+"\n", "produce", "mixed", "--brokers", addr, "--schema", v1)
	mustRunCLI(t, ctx, `{"id":"b","n":2}`+"\n"+`{"id":"c","n":3,"extra":"y"}`+"\n", "produce", "mixed", "--brokers", addr, "--schema", v2)
	mustRunCLI(t, ctx, "plain text\n", "produce", "mixed", "--brokers", addr)
	// A Confluent-framed record (registry id 7) of v1, as a registry-aware
	// producer writes it.
	body, err := schema.MustParse(pingAvsc).Encode(map[string]any{"id": "d", "n": 4})
	if err != nil {
		t.Fatal(err)
	}
	confluent := append(schema.AppendConfluentHeader(nil, 7), body...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mixed", Value: confluent}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Both versions known: every Avro record in its writer's view.
	res := runCLI(t, ctx, "", "consume", "mixed", "--brokers", addr, "--from-beginning", "-n", "5", "--schema", v2, "--schema", v1)
	want := `{"id":"a","n":1}` + "\n" + `{"id":"b","n":2,"extra":"x"}` + "\n" + `{"id":"c","n":3,"extra":"y"}` + "\n" +
		"plain text\n" + `{"id":"d","n":4}` + "\n"
	if res.code != 0 || res.stdout != want || res.stderr != "" {
		t.Fatalf("consume with both versions: exit %d, stdout\n%s\nstderr %q; want stdout\n%s", res.code, res.stdout, res.stderr, want)
	}

	// Only v1 known: the two v2 records print raw, with one note.
	res = runCLI(t, ctx, "", "consume", "mixed", "--brokers", addr, "--from-beginning", "-n", "5", "--schema", v1, "-o", "json")
	if res.code != 0 {
		t.Fatalf("consume with v1 only: exit %d, stderr %q", res.code, res.stderr)
	}
	raw := rawValues(t, ctx, addr, "mixed", 3)
	recs := decodeJSONLines(t, res.stdout)
	wantValues := []any{
		map[string]any{"id": "a", "n": 1.0},
		map[string]any{"base64": base64.StdEncoding.EncodeToString(raw[1])},
		map[string]any{"base64": base64.StdEncoding.EncodeToString(raw[2])},
		"plain text",
		map[string]any{"id": "d", "n": 4.0},
	}
	if len(recs) != len(wantValues) {
		t.Fatalf("consume printed %d records, want %d:\n%s", len(recs), len(wantValues), res.stdout)
	}
	for i, r := range recs {
		if !reflect.DeepEqual(r["value"], wantValues[i]) {
			t.Errorf("record %d: value %#v, want %#v", i, r["value"], wantValues[i])
		}
	}
	note := fmt.Sprintf("actord: consume mixed: unknown schema fingerprint 0x%016x: printing raw bytes\n", schema.MustParse(pingV2Avsc).Fingerprint())
	if res.stderr != note {
		t.Fatalf("stderr %q, want the note once: %q", res.stderr, note)
	}

	// Without --schema, consume prints every value as it is, as before.
	out := mustRunCLI(t, ctx, "", "consume", "mixed", "--brokers", addr, "--from-beginning", "-n", "5")
	var wantRaw bytes.Buffer
	for _, v := range rawValues(t, ctx, addr, "mixed", 5) {
		wantRaw.Write(v)
		wantRaw.WriteByte('\n')
	}
	if out != wantRaw.String() {
		t.Fatalf("consume without --schema printed %q, want the raw values %q", out, wantRaw.String())
	}
}

// TestKcatReadsAvroFromProduce: a client nobody here wrote sees exactly
// the single-object bytes.
func TestKcatReadsAvroFromProduce(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	avsc := writeFile(t, t.TempDir(), "ping.avsc", pingAvsc)
	mustRunCLI(t, ctx, `{"id":"a","n":2}`+"\n", "produce", "kcat-avro", "--brokers", addr, "--schema", avsc)
	out := runKcat(t, ctx, "", "-C", "-b", addr, "-t", "kcat-avro", "-o", "beginning", "-e", "-q", "-f", "%s")
	if want := "\xc3\x01\x67\x38\x9b\x72\x5e\x26\x1d\x28\x02a\x04"; out != want {
		t.Fatalf("kcat read % x, want % x", out, want)
	}
}

// TestConsumeAvroUnreadable: an Avro record of a known schema whose body
// does not decode, and a Confluent-framed record no --schema reads, print
// raw with a note each.
func TestConsumeAvroUnreadable(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	v1 := writeFile(t, t.TempDir(), "ping-v1.avsc", pingAvsc)
	truncated := append(schema.AppendSingleObjectHeader(nil, schema.MustParse(pingAvsc).Fingerprint()), 0x02, 'a')
	unknownID := append(schema.AppendConfluentHeader(nil, 9), 0xff, 0xff)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("unreadable"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: truncated}, &kgo.Record{Value: unknownID}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, ctx, "", "consume", "unreadable", "--brokers", addr, "--from-beginning", "-n", "2", "--schema", v1)
	if want := string(truncated) + "\n" + string(unknownID) + "\n"; res.code != 0 || res.stdout != want {
		t.Fatalf("exit %d, stdout %q; want 0 and the raw values %q", res.code, res.stdout, want)
	}
	notes := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
	if len(notes) != 2 ||
		!strings.Contains(notes[0], "unreadable/0@0: cannot decode as Ping") || !strings.Contains(notes[0], "printing raw bytes") ||
		!strings.Contains(notes[1], "schema registry id 9: no --schema reads") || !strings.Contains(notes[1], "printing raw bytes") {
		t.Fatalf("stderr %q: want a note for each record", res.stderr)
	}
}
