package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker/registry"
	"github.com/actord/actord/schema"
)

// paymentSchema has no logical types, so Python's avro takes the same
// JSON values as actord's produce.
const paymentSchema = `{"type":"record","name":"Payment","namespace":"shop","fields":[
 {"name":"payment_id","type":"long"},
 {"name":"amount","type":"double"},
 {"name":"currency","type":"string"},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["PENDING","PAID","FAILED"]}},
 {"name":"note","type":["null","string"],"default":null}]}`

// paymentIncompatible adds a field without a default: not BACKWARD.
const paymentIncompatible = `{"type":"record","name":"Payment","namespace":"shop","fields":[
 {"name":"payment_id","type":"long"},
 {"name":"amount","type":"double"},
 {"name":"currency","type":"string"},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["PENDING","PAID","FAILED"]}},
 {"name":"note","type":["null","string"],"default":null},
 {"name":"merchant","type":"string"}]}`

func writeSchemaFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func startTestRegistry(t *testing.T, dataDir string) *registry.Server {
	t.Helper()
	s, err := registry.Start(registry.Config{Listen: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The schema commands and produce/consume --registry against the
// embedded registry: register, list, get, check; an incompatible schema
// refused with the field named, by check, register and produce alike; a
// produced record framed with the id and read back by id.
func TestSchemaRegistryCommands(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	reg := startTestRegistry(t, "")
	good := writeSchemaFile(t, "payment.avsc", paymentSchema)
	bad := writeSchemaFile(t, "payment-bad.avsc", paymentIncompatible)
	r := []string{"--registry", reg.URL()}

	out := mustRunCLI(t, ctx, "", append([]string{"schema", "register", "payments-value", good}, r...)...)
	if out != "registered shop.Payment as payments-value version 1, id 1\n" {
		t.Errorf("register: %q", out)
	}
	out = mustRunCLI(t, ctx, "", append([]string{"schema", "list"}, r...)...)
	if !strings.Contains(out, "SUBJECT") || !strings.Contains(out, "payments-value  1         1       1") {
		t.Errorf("list: %q", out)
	}
	var rows []subjectRow
	if err := json.Unmarshal([]byte(mustRunCLI(t, ctx, "", append([]string{"schema", "list", "-o", "json"}, r...)...)), &rows); err != nil ||
		!reflect.DeepEqual(rows, []subjectRow{{Subject: "payments-value", Versions: []int{1}, Latest: 1, ID: 1}}) {
		t.Errorf("list -o json: %+v, %v", rows, err)
	}
	got := mustRunCLI(t, ctx, "", append([]string{"schema", "get", "payments-value", "--version", "1"}, r...)...)
	if s, err := schema.Parse(got); err != nil || s.Fingerprint() != schema.MustParse(paymentSchema).Fingerprint() {
		t.Errorf("get: %q, %v", got, err)
	}

	res := runCLI(t, ctx, "", append([]string{"schema", "check", bad, "--subject", "payments-value"}, r...)...)
	if res.code != 1 || !strings.Contains(res.stdout, "Payment.merchant: field has no default") {
		t.Errorf("check incompatible: exit %d, stdout %q", res.code, res.stdout)
	}
	assertOneLineError(t, res.code, res.stderr, "not BACKWARD compatible with subject payments-value (1 reason)")
	if out := mustRunCLI(t, ctx, "", append([]string{"schema", "check", good, "--subject", "payments-value"}, r...)...); !strings.HasPrefix(out, "compatible (BACKWARD") {
		t.Errorf("check compatible: %q", out)
	}
	res = runCLI(t, ctx, "", append([]string{"schema", "get", "nope-value"}, r...)...)
	assertOneLineError(t, res.code, res.stderr, `no subject "nope-value"`)
	res = runCLI(t, ctx, "", append([]string{"schema", "get", "payments-value", "--version", "9"}, r...)...)
	assertOneLineError(t, res.code, res.stderr, `subject "payments-value" has no version 9`)
	res = runCLI(t, ctx, "", append([]string{"schema", "register", "payments-value", bad}, r...)...)
	assertOneLineError(t, res.code, res.stderr, `refused subject "payments-value" (409)`, "Payment.merchant", "no default")
	line := `{"payment_id":1,"amount":9.5,"currency":"EUR","status":"PAID","note":null,"merchant":"m"}`
	res = runCLI(t, ctx, line+"\n", append([]string{"produce", "payments", "--schema", bad, "--brokers", addr}, r...)...)
	assertOneLineError(t, res.code, res.stderr, `refused subject "payments-value" (409)`, "Payment.merchant")
	if n := recordCount(t, ctx, addr, "payments"); n != 0 {
		t.Errorf("%d records produced with a refused schema", n)
	}

	line = `{"payment_id":2,"amount":0.25,"currency":"USD","status":"FAILED","note":{"string":"card declined"}}`
	if out := mustRunCLI(t, ctx, line+"\n", append([]string{"produce", "payments", "--schema", good, "--brokers", addr}, r...)...); out != "produced 1 record to payments\n" {
		t.Errorf("produce: %q", out)
	}
	raw := rawValues(t, ctx, addr, "payments", 1)[0]
	if h, _, err := schema.ReadHeader(raw); err != nil || h.Framing != schema.Confluent || h.ID != 1 {
		t.Errorf("produced record header %+v, %v; want Confluent id 1", h, err)
	}
	out = mustRunCLI(t, ctx, "", append([]string{"consume", "payments", "--from-beginning", "-n", "1", "--brokers", addr}, r...)...)
	if out != `{"payment_id":2,"amount":0.25,"currency":"USD","status":"FAILED","note":"card declined"}`+"\n" {
		t.Errorf("consume --registry: %q", out)
	}
}

// What cannot work is one line: no registry, a registry that is down
// (within the deadline), --registry without --schema, a bad version.
func TestSchemaRegistryCommandErrors(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 60*time.Second)
	good := writeSchemaFile(t, "payment.avsc", paymentSchema)
	res := runCLI(t, ctx, "", "schema", "list")
	assertOneLineError(t, res.code, res.stderr, "no schema registry: pass --registry URL or set schema_registry.url")
	res = runCLI(t, ctx, "", "schema", "register", "x-value", good, "--registry", "http://127.0.0.1:1")
	assertOneLineError(t, res.code, res.stderr, `register subject "x-value"`, "connection refused", "4 attempts")
	res = runCLI(t, ctx, "x\n", "produce", "t", "--registry", "http://127.0.0.1:1", "--brokers", "127.0.0.1:1")
	assertOneLineError(t, res.code, res.stderr, "--registry needs --schema")
	res = runCLI(t, ctx, "", "schema", "get", "x-value", "--version", "0", "--registry", "http://127.0.0.1:1")
	assertOneLineError(t, res.code, res.stderr, `--version "0"`)
	res = runCLI(t, ctx, "", "schema", "check", good)
	assertOneLineError(t, res.code, res.stderr, "want OLD.avsc NEW.avsc, or NEW.avsc --subject SUBJECT")
	res = runCLI(t, ctx, "", "schema", "list", "--registry", "localhost:8081/x y")
	if res.code == 0 {
		t.Errorf("a bad URL: exit 0")
	}
}

// `actord broker --schema-registry` serves the registry beside the broker;
// with --data-dir its schemas and ids survive a restart.
func TestBrokerServesSchemaRegistry(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 60*time.Second)
	dir := t.TempDir()
	good := writeSchemaFile(t, "payment.avsc", paymentSchema)
	for round := range 2 {
		bctx, stop := context.WithCancel(ctx)
		var stdout, stderr lockedBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(bctx, []string{"broker", "--listen", "127.0.0.1:0", "--schema-registry", "127.0.0.1:0", "--data-dir", dir}, strings.NewReader(""), &stdout, &stderr)
		}()
		var url string
		actortest.Eventually(t, 20*time.Second, "the registry to listen", func() bool {
			for _, l := range strings.Split(stdout.String(), "\n") {
				if u, ok := strings.CutPrefix(l, "schema registry listening on "); ok {
					url = u
				}
			}
			return url != ""
		})
		if round == 0 {
			if out := mustRunCLI(t, ctx, "", "schema", "register", "payments-value", good, "--registry", url); !strings.Contains(out, "id 1") {
				t.Errorf("register: %q", out)
			}
		} else {
			out := mustRunCLI(t, ctx, "", "schema", "get", "payments-value", "-o", "json", "--registry", url)
			var got struct{ ID, Version int }
			if json.Unmarshal([]byte(out), &got) != nil || got.ID != 1 || got.Version != 1 {
				t.Errorf("after restart: %q", out)
			}
		}
		stop()
		if code := <-done; code != 0 {
			t.Fatalf("broker exit %d: %s", code, stderr.String())
		}
	}
}

// pythonAvroScript is Confluent's own Python client (Debian's
// python3-confluent-kafka 1.7, with python3-avro and python3-requests):
// "produce BROKERS REGISTRY TOPIC SCHEMA.avsc" writes each stdin line (a
// JSON object) with AvroProducer; "consume BROKERS REGISTRY TOPIC N" reads
// N records with AvroConsumer and prints them as one JSON array.
const pythonAvroScript = `
import sys, json, time
from confluent_kafka import avro
from confluent_kafka.avro import AvroProducer, AvroConsumer
mode, brokers, registry, topic = sys.argv[1:5]
if mode == "produce":
    schema = avro.loads(open(sys.argv[5]).read())
    p = AvroProducer({"bootstrap.servers": brokers, "schema.registry.url": registry}, default_value_schema=schema)
    for line in sys.stdin:
        p.produce(topic=topic, value=json.loads(line))
    print(json.dumps({"unflushed": p.flush(30)}), flush=True)
else:
    n = int(sys.argv[5])
    c = AvroConsumer({"bootstrap.servers": brokers, "schema.registry.url": registry,
                      "group.id": "py-avro", "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    got, deadline = [], time.time() + 30
    while len(got) < n and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            print(json.dumps({"error": str(m.error())}), file=sys.stderr, flush=True)
            continue
        got.append(m.value())
    c.close()
    print(json.dumps(got), flush=True)
`

func runPythonAvro(t *testing.T, ctx context.Context, stdin string, args ...string) string {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import confluent_kafka.avro, avro, requests").CombinedOutput(); err != nil {
		t.Fatalf("/usr/bin/python3 cannot import confluent_kafka.avro (%v: %s): install python3-confluent-kafka python3-avro python3-requests; 'make test' does (make deps)", err, out)
	}
	pctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(pctx, "/usr/bin/python3", append([]string{"-c", pythonAvroScript}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %s: %v\nstderr: %s", args[0], err, stderr.String())
	}
	return string(out)
}

type payment struct {
	PaymentID int64   `avro:"payment_id" json:"payment_id"`
	Amount    float64 `avro:"amount" json:"amount"`
	Currency  string  `avro:"currency" json:"currency"`
	Status    string  `avro:"status" json:"status"`
	Note      *string `avro:"note" json:"note"`
}

// Interop with Confluent's Python client through the embedded registry:
// records Python's AvroProducer wrote are consumed by a typed actord
// consumer with their values, and records 'actord produce --registry'
// wrote are decoded by Python's AvroConsumer with the same values.
func TestPythonConfluentAvroInterop(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 120*time.Second)
	b := actortest.Broker(t)
	reg := startTestRegistry(t, "")
	file := writeSchemaFile(t, "payment.avsc", paymentSchema)
	declined := "card declined"
	want := []payment{
		{PaymentID: 1, Amount: 9.5, Currency: "EUR", Status: "PAID"},
		{PaymentID: 2, Amount: 0.25, Currency: "USD", Status: "FAILED", Note: &declined},
	}
	var lines strings.Builder
	for _, p := range want {
		j, _ := json.Marshal(p)
		lines.Write(append(j, '\n'))
	}

	// Python writes, a typed actord consumer reads.
	if out := runPythonAvro(t, ctx, lines.String(), "produce", b.Addr(), reg.URL(), "py-payments", file); strings.TrimSpace(out) != `{"unflushed": 0}` {
		t.Fatalf("python produce: %q", out)
	}
	cl, err := schema.NewRegistryClient(schema.RegistryConfig{URLs: []string{reg.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	rt := actortest.Runtime(t, b, actors.WithSchemaRegistry(cl))
	var mu sync.Mutex
	var got []payment
	err = actors.Consume(rt, "py-payments", "ledger", func(_ context.Context, m actors.Message[payment]) error {
		mu.Lock()
		got = append(got, m.Value)
		mu.Unlock()
		return nil
	}, actors.WithSchema(schema.MustParse(paymentSchema)))
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "ledger", "py-payments")
	mu.Lock()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("actord consumer of Python's records: %+v, want %+v", got, want)
	}
	mu.Unlock()

	// actord writes, Python's AvroConsumer reads.
	var avroLines strings.Builder
	sc := bufio.NewScanner(strings.NewReader(lines.String()))
	for sc.Scan() {
		// Avro JSON: a non-null union value names its branch.
		avroLines.WriteString(strings.Replace(sc.Text(), `"note":"card declined"`, `"note":{"string":"card declined"}`, 1) + "\n")
	}
	mustRunCLI(t, ctx, avroLines.String(), "produce", "go-payments", "--schema", file, "--registry", reg.URL(), "--brokers", b.Addr())
	var fromPython []payment
	out := runPythonAvro(t, ctx, "", "consume", b.Addr(), reg.URL(), "go-payments", "2")
	if err := json.Unmarshal([]byte(out), &fromPython); err != nil || !reflect.DeepEqual(fromPython, want) {
		t.Errorf("Python's AvroConsumer of actord's records: %s (%v), want %+v", out, err, want)
	}
}

// paymentReader is a reader version of paymentSchema: a field added with
// a default, so records written with paymentSchema resolve into it.
const paymentReader = `{"type":"record","name":"Payment","namespace":"shop","fields":[
 {"name":"payment_id","type":"long"},
 {"name":"amount","type":"double"},
 {"name":"currency","type":"string"},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["PENDING","PAID","FAILED"]}},
 {"name":"note","type":["null","string"],"default":null},
 {"name":"channel","type":"string","default":"web"}]}`

// actord start with a consumer's schema: {registry: true, file: ...}: the
// log handler gets each Avro record as JSON, resolved into the reader
// schema; a forward handler re-encodes it with the reader schema under
// the target topic's subject; a record that is not Avro is dead-lettered
// with the reason.
func TestStartDecodesAvroForHandlers(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 90*time.Second)
	b := actortest.Broker(t)
	reg := startTestRegistry(t, "")
	dir := t.TempDir()
	writer := writeSchemaFile(t, "payment.avsc", paymentSchema)
	reader := writeSchemaFile(t, "payment-reader.avsc", paymentReader)
	logFile := filepath.Join(dir, "payments.jsonl")
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka:
  bootstrap_servers: `+b.Addr()+`
schema_registry:
  url: `+reg.URL()+`
log:
  level: warn
http:
  listen: ""
runtime:
  commit_interval: 100ms
consumers:
  - topic: payments
    group: audit
    schema: {registry: true, file: `+reader+`}
    handler:
      log: {file: `+logFile+`}
  - topic: payments
    group: copier
    dead_letter_topic: payments.copier.dlq
    schema: {registry: true, file: `+reader+`}
    handler:
      forward: {topic: payments-v2}
`), 0o644)
	actortest.CreateTopic(t, b, "payments", 1)
	line := `{"payment_id":2,"amount":0.25,"currency":"USD","status":"FAILED","note":{"string":"card declined"}}`
	mustRunCLI(t, ctx, line+"\n", "produce", "payments", "--schema", writer, "--registry", reg.URL(), "--brokers", b.Addr())
	actortest.Produce(t, b, "payments", actortest.Value("not avro"))

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(sctx, []string{"start", "--config", cfgFile}, strings.NewReader(""), &stdout, &stderr)
	}()
	letters := actortest.WaitDeadLetters(t, b, "payments.dlq", 1)
	if letters[0].Offset != 1 || !strings.Contains(letters[0].Error, "malformed avro data") {
		t.Errorf("dead letter: offset %d, error %q", letters[0].Offset, letters[0].Error)
	}
	actortest.WaitCommittedToEnd(t, b, "audit", "payments")
	// forward re-encodes with the reader schema, registered under the
	// target's subject: Confluent framing with the reader's id.
	srcl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	copied := actortest.ReadTopic(t, b, "payments-v2", 1)[0].Value
	h, body, err := schema.ReadHeader(copied)
	ss, serr := srcl.SchemaByVersion(ctx, "payments-v2-value", -1)
	if err != nil || serr != nil || h.Framing != schema.Confluent || h.ID != ss.ID || schema.MustParse(ss.Schema.Schema).Fingerprint() != schema.MustParse(paymentReader).Fingerprint() {
		t.Errorf("forwarded record header %+v (%v), payments-v2-value latest %+v (%v)", h, err, ss, serr)
	}
	if j, err := schema.MustParse(paymentReader).DecodeJSON(body); err != nil || !strings.Contains(string(j), `"channel":"web"`) {
		t.Errorf("forwarded record: %s, %v", j, err)
	}
	if l := actortest.WaitDeadLetters(t, b, "payments.copier.dlq", 1); !strings.Contains(l[0].Error, "malformed avro data") {
		t.Errorf("copier dead letter: %q", l[0].Error)
	}
	actortest.WaitCommittedToEnd(t, b, "copier", "payments")
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("start exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var rec struct {
		Offset int64           `json:"offset"`
		Value  json.RawMessage `json:"value"`
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil || rec.Offset != 0 {
		t.Fatalf("log: %q", data)
	}
	var got map[string]any
	want := map[string]any{"payment_id": 2.0, "amount": 0.25, "currency": "USD", "status": "FAILED", "note": "card declined", "channel": "web"}
	if err := json.Unmarshal(rec.Value, &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("logged value %s, want the JSON object %v", rec.Value, want)
	}
}

// A schema that cannot work is refused before anything is consumed, one
// line naming the key.
func TestStartSchemaConfigErrors(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 30*time.Second)
	dir := t.TempDir()
	for _, tc := range []struct{ consumer, want string }{
		{`schema: {registry: true}
    handler: {log: {}}`, "consumers[0].schema.registry: true needs a registry"},
		{`schema: {file: ` + filepath.Join(dir, "missing.avsc") + `}
    handler: {log: {}}`, "consumers[0].schema.file"},
		{`schema: {registry: true}
    handler: {forward: {topic: copy}}`, "consumers[0].schema.file: required with a forward handler"},
	} {
		cfgFile := filepath.Join(t.TempDir(), "actord.yaml")
		os.WriteFile(cfgFile, []byte("kafka: {bootstrap_servers: 127.0.0.1:1}\nconsumers:\n  - topic: payments\n    group: audit\n    "+tc.consumer+"\n"), 0o644)
		res := runCLI(t, ctx, "", "start", "--config", cfgFile)
		assertOneLineError(t, res.code, res.stderr, tc.want)
	}
}

// A wrong registry password (from the environment) is one line saying
// authentication failed, without the password; the right one works.
func TestSchemaRegistryAuthFailureOneLine(t *testing.T) {
	fake := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("svc:right-pw"))))
	t.Cleanup(fake.Close)
	ctx := deadlineCtx(t, 30*time.Second)
	good := writeSchemaFile(t, "payment.avsc", paymentSchema)
	t.Setenv("ACTORD_SCHEMA_REGISTRY_AUTH_USERNAME", "svc")
	t.Setenv("ACTORD_SCHEMA_REGISTRY_AUTH_PASSWORD", "wrong-pw")
	res := runCLI(t, ctx, "", "schema", "register", "payments-value", good, "--registry", fake.URL())
	assertOneLineError(t, res.code, res.stderr, `register subject "payments-value"`, "authentication failed")
	if strings.Contains(res.stderr, "wrong-pw") {
		t.Errorf("the password shows: %q", res.stderr)
	}
	t.Setenv("ACTORD_SCHEMA_REGISTRY_AUTH_PASSWORD", "right-pw")
	if out := mustRunCLI(t, ctx, "", "schema", "register", "payments-value", good, "--registry", fake.URL()); !strings.Contains(out, "registered shop.Payment as payments-value version 1") {
		t.Errorf("register with the right password: %q", out)
	}
}

// consume --registry waits for a registry that is down (a note on stderr)
// and prints the record decoded once it is back: nothing prints raw.
func TestConsumeWaitsForRegistry(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	dir := t.TempDir()
	reg, err := registry.Start(registry.Config{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	url, listen := reg.URL(), reg.Addr()
	good := writeSchemaFile(t, "payment.avsc", paymentSchema)
	line := `{"payment_id":3,"amount":1.5,"currency":"EUR","status":"PAID","note":null}`
	mustRunCLI(t, ctx, line+"\n", "produce", "waits", "--schema", good, "--registry", url, "--brokers", addr)
	reg.Close()

	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"consume", "waits", "--from-beginning", "-n", "1", "--registry", url, "--brokers", addr}, strings.NewReader(""), &stdout, &stderr)
	}()
	actortest.Eventually(t, 30*time.Second, "consume to note the registry is down", func() bool {
		return strings.Contains(stderr.String(), "waiting for it")
	})
	if stdout.String() != "" {
		t.Fatalf("printed while the registry was down: %q", stdout.String())
	}
	back, err := registry.Start(registry.Config{Listen: listen, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { back.Close() })
	if code := <-done; code != 0 {
		t.Fatalf("consume exit %d: %s", code, stderr.String())
	}
	if stdout.String() != line+"\n" {
		t.Errorf("consume printed %q, want %q", stdout.String(), line)
	}
}
