package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/schema"
)

const (
	// batchRecordBytes is franz-go's (and Kafka's) default cap on one
	// uncompressed record batch. Lines up to it are batched normally.
	batchRecordBytes = 1_000_012
	// maxLineBytes bounds one stdin line, so that input without newlines
	// cannot exhaust memory. Whether the cluster accepts a record this big
	// is its own setting (message.max.bytes, applied after compression).
	maxLineBytes = 64 << 20
	// produceBufferBytes bounds what the normal producer buffers before
	// Produce blocks: backpressure from the cluster reaches stdin.
	produceBufferBytes = 32 << 20
)

// produceCmd is `actord produce TOPIC`: one record per stdin line.
func (a *app) produceCmd() *cobra.Command {
	var (
		key         string
		headers     []string
		schemaFile  string
		compression string
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "produce one record per stdin line to TOPIC",
		Long: `Produce one record per line of stdin to TOPIC, then print how many records
the cluster acknowledged ("produced 3 records to orders").

The trailing newline is stripped; an empty line is a record with an empty
value. Lines may be long (records above ~1 MB are sent one at a time, and
the cluster's message.max.bytes decides whether it takes them; a line
longer than 64 MiB is an error). Every record carries --key when given (no
key otherwise) and every --header. Records are produced with acks=all and
idempotence, so none is written twice or out of order. Batches are
compressed with --compression, else producer.compression (default none:
every client reads it; Debian's python3-kafka reads snappy only with
python3-snappy installed).

With --schema FILE.avsc every line is a JSON object that is checked
against the Avro schema and sent as an Avro record in single-object
encoding (C3 01, the schema's fingerprint, the body). Numbers keep their
precision; timestamps may be RFC 3339 strings, dates "2006-01-02", decimals
numbers or strings; a field with a default may be left out. A line that is
not JSON or does not fit the schema stops the command with its line number
and the field ("stdin line 3: Order.status: unknown enum symbol ..."):
nothing from that line on is sent.

With a Schema Registry (--registry URL, or schema_registry.url), --schema
records use the Confluent framing instead (00, the 4-byte schema id, the
body), which Confluent's and other registry-aware clients read. The schema
is registered under its subject ("TOPIC-value" by default, see
schema_registry.subject_strategy) before any line is read; a schema the
registry refuses, such as one incompatible with the subject's, stops the
command with the registry's reason, naming the field. With
schema_registry.auto_register false nothing is registered: the subject's
latest version must be this schema.

If a record fails, the command stops reading, reports how many records were
acknowledged before the failure and exits non-zero. A record not
acknowledged within kafka.request_timeout (default 10s) fails, and an
unreachable cluster is reported within that time.`,
		Example: `  printf 'a\nb\nc\n' | actord produce orders --key customer-7 --header source=cli
  echo '{"order_id":"o-1","status":"NEW"}' | actord produce orders --schema order.avsc
  echo '{"order_id":"o-1","status":"NEW"}' | actord produce orders --schema order.avsc --registry http://127.0.0.1:8081`,
		Args: oneTopic,
		RunE: func(cmd *cobra.Command, args []string) error {
			hs, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			var k []byte
			if cmd.Flags().Changed("key") {
				k = []byte(key)
			}
			var encode func([]byte) ([]byte, error)
			if schemaFile != "" {
				s, err := loadSchema(schemaFile)
				if err != nil {
					return err
				}
				serde, err := a.registrySerde(cmd, args[0], s)
				if err != nil {
					return err
				}
				encode = jsonToAvro(s, serde)
			} else if cmd.Flags().Changed("registry") {
				return errors.New("--registry needs --schema FILE.avsc: only Avro records are framed with a registry id")
			}
			return a.produce(cmd, args[0], k, hs, encode, compression)
		},
	}
	f := cmd.Flags()
	f.StringVar(&key, "key", "", "key of every record (default: no key)")
	f.StringArrayVar(&headers, "header", nil, "header `k=v` added to every record; repeat for more")
	f.StringVar(&schemaFile, "schema", "", "Avro schema `FILE.avsc`: each line is a JSON object sent as an Avro record of it")
	f.StringVar(&compression, "compression", "", "codec of the record batches: `none`, gzip, snappy, lz4 or zstd (default: producer.compression, none)")
	registryFlag(cmd)
	return cmd
}

// registrySerde is the Serde of `produce --schema`: single-object encoding
// without a registry; with one (--registry or schema_registry.url), the
// schema registered (or, with auto_register false, found as the latest)
// under the subject of schema_registry.subject_strategy before any line
// is read, and the Confluent framing. A refusal is the registry's reason,
// naming the subject and the field.
func (a *app) registrySerde(cmd *cobra.Command, topic string, s *schema.Schema) (*schema.Serde, error) {
	reg, err := a.registryClient(cmd, false)
	if err != nil || reg == nil {
		return schema.NewSerde(s), err
	}
	subject, err := reg.Subject(topic, s, false)
	if err != nil {
		return nil, fmt.Errorf("schema_registry.subject_strategy: %w", err)
	}
	serde := schema.NewSerde(s, schema.WithRegistry(reg, subject))
	ctx, cancel := registryCtx(cmd.Context(), reg)
	defer cancel()
	if _, err := serde.Register(ctx); err != nil {
		return nil, err
	}
	return serde, nil
}

// loadSchema loads the Avro schema of a --schema flag; the error names
// the flag and the file.
func loadSchema(path string) (*schema.Schema, error) {
	s, err := schema.Load(path)
	if err != nil {
		return nil, fmt.Errorf("--schema: %w", err)
	}
	return s, nil
}

// jsonToAvro returns the encoder of `produce --schema`: one line of JSON
// to one record of s, framed by serde. Numbers are decoded as json.Number
// so that a long keeps all its digits.
func jsonToAvro(s *schema.Schema, serde *schema.Serde) func([]byte) ([]byte, error) {
	wantObject := s.Type() == "record"
	return func(b []byte) ([]byte, error) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				if wantObject {
					return nil, errors.New("empty line, want a JSON object")
				}
				return nil, errors.New("empty line, want a JSON value")
			}
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("not JSON: %v at byte %d", err, se.Offset)
			}
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("not one JSON value: text after the first")
		}
		if _, ok := v.(map[string]any); wantObject && !ok {
			return nil, fmt.Errorf("want a JSON object for record %s, got %s", s.Name(), jsonKindOf(v))
		}
		return serde.Marshal(v)
	}
}

// jsonKindOf names the kind of a decoded JSON value for messages.
func jsonKindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a JSON boolean"
	case json.Number:
		return "a JSON number"
	case string:
		return "a JSON string"
	case []any:
		return "a JSON array"
	}
	return "a JSON object"
}

// oneTopic is the Args check of commands that take exactly one TOPIC.
func oneTopic(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: want one TOPIC argument, got %d (see '%s --help')", cmd.CommandPath(), len(args), cmd.CommandPath())
	}
	return nil
}

// parseHeaders turns --header k=v flags into record headers, rejecting
// any without '=' before anything is sent.
func parseHeaders(flags []string) ([]kgo.RecordHeader, error) {
	var hs []kgo.RecordHeader
	for _, h := range flags {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--header %q: want k=v", h)
		}
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return hs, nil
}

// produce sends one record per stdin line. encode, when not nil, turns a
// line into the record's value; a line it rejects stops the command
// before anything of that line is sent.
func (a *app) produce(cmd *cobra.Command, topic string, key []byte, headers []kgo.RecordHeader, encode func([]byte) ([]byte, error), compression string) error {
	if cmd.Flags().Changed("compression") {
		if _, err := actors.ParseCompression(compression); err != nil {
			return fmt.Errorf("--compression: %w", err)
		}
	}
	cfg, base, stop, err := a.cluster(cmd)
	if err != nil {
		return err
	}
	defer stop()
	if compression == "" {
		compression = cfg.Producer.Compression
	}
	codec, err := actors.ParseCompression(compression)
	if err != nil {
		return fmt.Errorf("producer.compression: %w", err)
	}
	base = append(base,
		kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(),
		kgo.RecordDeliveryTimeout(cfg.Kafka.RequestTimeout),
		kgo.ProducerBatchCompression(codec.Codec()),
	)
	cl, err := kgo.NewClient(append(base, kgo.MaxBufferedBytes(produceBufferBytes))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := pingCluster(cmd.Context(), cl, cfg.Kafka); err != nil {
		return err
	}

	p := &lineProducer{cl: cl, base: base, failCh: make(chan struct{})}
	defer p.close()
	lines, done := readLines(a.stdin)
	defer close(done)

	// The signal context only stops reading: records already handed to
	// the client are still delivered (bounded by the delivery timeout).
	var stopped error
read:
	for {
		select {
		case <-cmd.Context().Done():
			stopped = errors.New("interrupted")
			break read
		case <-p.failed():
			break read
		case ln, ok := <-lines:
			if !ok {
				break read
			}
			if ln.err != nil {
				stopped = fmt.Errorf("stdin line %d: %w", ln.n, ln.err)
				break read
			}
			// A failure may be known already while the next line is ready
			// too: select picks at random, so check before sending more.
			if p.err() != nil {
				break read
			}
			value := ln.b
			if encode != nil {
				var err error
				if value, err = encode(ln.b); err != nil {
					stopped = fmt.Errorf("stdin line %d: %w", ln.n, err)
					break read
				}
			}
			p.produce(&kgo.Record{Key: key, Value: value, Headers: headers})
		}
	}
	p.flush()

	n := p.acked.Load()
	switch err := p.err(); {
	case err != nil:
		return fmt.Errorf("produced %s to %s, then a record failed: %w", records(n), topic, err)
	case stopped != nil:
		return fmt.Errorf("produced %s to %s, then stopped: %w", records(n), topic, stopped)
	}
	fmt.Fprintf(a.stdout, "produced %s to %s\n", records(n), topic)
	return nil
}

// records says "1 record" or "n records".
func records(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

// lineProducer sends records in stdin order and counts acknowledgements.
// Records larger than a normal batch go through a second client whose
// batch cap fits them, one at a time with the normal client flushed
// before, so order holds without letting ordinary batches grow past what a
// default cluster accepts.
type lineProducer struct {
	cl    *kgo.Client
	base  []kgo.Opt
	large *kgo.Client

	acked    atomic.Int64
	mu       sync.Mutex
	firstErr error
	failCh   chan struct{}
	failOnce sync.Once
}

// failed is closed on the first failed record.
func (p *lineProducer) failed() <-chan struct{} { return p.failCh }

func (p *lineProducer) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstErr
}

func (p *lineProducer) fail(err error) {
	p.failOnce.Do(func() {
		p.mu.Lock()
		p.firstErr = err
		p.mu.Unlock()
		close(p.failCh)
	})
}

func (p *lineProducer) done(_ *kgo.Record, err error) {
	if err != nil {
		p.fail(err)
		return
	}
	p.acked.Add(1)
}

func (p *lineProducer) produce(r *kgo.Record) {
	// Background context: a buffered record is delivered or fails on its
	// delivery timeout, never half-cancelled by a signal.
	ctx := context.Background()
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	if size < batchRecordBytes-64<<10 {
		p.cl.Produce(ctx, r, p.done)
		return
	}
	if err := p.cl.Flush(ctx); err != nil {
		p.fail(err)
		return
	}
	if p.err() != nil {
		return
	}
	if p.large == nil {
		cl, err := kgo.NewClient(append(slices.Clip(p.base),
			kgo.ProducerBatchMaxBytes(maxLineBytes+1<<20),
			kgo.MaxBufferedBytes(maxLineBytes+2<<20),
		)...)
		if err != nil {
			p.fail(err)
			return
		}
		p.large = cl
	}
	p.large.Produce(ctx, r, p.done)
	if err := p.large.Flush(ctx); err != nil {
		p.fail(err)
	}
}

func (p *lineProducer) flush() {
	if err := p.cl.Flush(context.Background()); err != nil {
		p.fail(err)
	}
}

func (p *lineProducer) close() {
	if p.large != nil {
		p.large.Close()
	}
}

// line is one stdin line without its newline, numbered from 1.
type line struct {
	n   int
	b   []byte
	err error
}

// readLines reads stdin in its own goroutine so that a signal can stop a
// produce waiting on a terminal. Closing done releases the goroutine
// unless it is blocked reading, which only happens when the process is
// about to exit anyway.
func readLines(r io.Reader) (<-chan line, chan<- struct{}) {
	out := make(chan line, 64)
	done := make(chan struct{})
	go func() {
		defer close(out)
		br := bufio.NewReaderSize(r, 64<<10)
		for n := 1; ; n++ {
			b, err := readLine(br, maxLineBytes)
			if errors.Is(err, io.EOF) {
				if b == nil {
					return
				}
				err = nil
			}
			select {
			case out <- line{n: n, b: b, err: err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out, done
}

// readLine returns the next line without its '\n', never nil for a line
// that exists (an empty line is an empty value, not a null one); nil and
// io.EOF at the end of input.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var b []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(b)+len(frag) > max+1 {
			return nil, fmt.Errorf("line longer than %d MiB", max>>20)
		}
		if b == nil && len(frag) > 0 {
			b = make([]byte, 0, len(frag))
		}
		b = append(b, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(b); n > 0 && b[n-1] == '\n' {
			return b[:n-1], nil
		}
		return b, err
	}
}

// pingCluster asks the bootstrap servers for metadata, so that a command
// facing an unreachable cluster fails within kafka.request_timeout and
// names the addresses it tried.
func pingCluster(ctx context.Context, cl *kgo.Client, k config.Kafka) error {
	pctx, cancel := context.WithTimeout(ctx, k.RequestTimeout)
	defer cancel()
	err := cl.Ping(pctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return errors.New("interrupted")
	case isUnreachable(err):
		return brokerUnreachable(k.Brokers(), err)
	}
	return fmt.Errorf("Kafka at %s: %w", strings.Join(k.Brokers(), ","), err)
}
