package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/handler"
	"github.com/actord/actord/schema"
)

// consumeCmd is `actord consume TOPIC`: print records as they arrive.
func (a *app) consumeCmd() *cobra.Command {
	var (
		group         string
		fromBeginning bool
		count         int
		schemaFiles   []string
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "print the records of TOPIC",
		Long: `Print the records of TOPIC as they arrive, until -n records were printed
(exit 0) or until SIGINT or SIGTERM.

Without --group the records are read directly, from every partition and
without committing anything. With --group the command joins that consumer
group and commits the offsets of the records it printed, so the next run
of the group continues after them.

It starts at the latest offset, or at the earliest with --from-beginning
(with --group, only where the group has no committed offset).

Output: by default each record's value on its own line, as 'actord
produce' reads it (so 'consume | produce' copies values); keys and
headers are not shown. With -o json, one JSON object per line:
  {"topic":"orders","partition":0,"offset":42,"key":"customer-7",
   "headers":{"source":"cli"},"value":"...","timestamp":"2024-05-01T12:00:00.123Z"}
key and value are strings when valid UTF-8, null when absent, and
{"base64":"..."} otherwise; header values follow the same rule (a header
name that repeats keeps its last value); timestamp is RFC 3339 in UTC.

With --schema FILE.avsc (repeat it for several versions of a schema),
Avro records are printed as JSON: plain output prints each decoded record
as one line of JSON (which 'actord produce --schema' reads back), and -o
json makes "value" that JSON object instead of a string. A record in
single-object encoding (C3 01 + fingerprint) is decoded with the --schema
whose fingerprint it carries, so it shows the fields its producer wrote. A
Confluent-framed record (00 + registry id) is decoded with the schema of
that id from the Schema Registry (--registry URL, or schema_registry.url
with --schema), fetched once per id; no --schema file is needed. A
registry that cannot answer is waited for (noted once on stderr), so no
record prints undecoded for it. Without a registry, such a record is
decoded with the one --schema that reads it exactly, which then stands for
that id for the rest of the run.
Timestamps print as RFC 3339 in UTC, dates as "2006-01-02", times of day as
a number of milli- or microseconds, decimals as exact numbers, bytes as a
string when valid UTF-8 and {"base64":"..."} otherwise.

Records that are not Avro print as without --schema. An Avro record whose
schema is not among the --schema files prints as without --schema too,
with a note on stderr (once per fingerprint or id).`,
		Example: `  actord consume orders --from-beginning -n 10 -o json
  actord consume orders --group audit
  actord consume orders --schema order-v2.avsc --schema order-v1.avsc -o json
  actord consume orders --registry http://127.0.0.1:8081 --from-beginning`,
		Args: oneTopic,
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 0 {
				return fmt.Errorf("-n %d: want a count of records, 0 for no limit", count)
			}
			if err := a.checkOutput(); err != nil {
				return err
			}
			var avro *avroDecoder
			if len(schemaFiles) > 0 || cmd.Flags().Changed("registry") {
				var err error
				if avro, err = newAvroDecoder(schemaFiles, args[0], a.stderr); err != nil {
					return err
				}
				if avro.registry, err = a.registryClient(cmd, cmd.Flags().Changed("registry")); err != nil {
					return err
				}
				avro.ctx = cmd.Context()
			}
			return a.consume(cmd, args[0], group, fromBeginning, count, avro)
		},
	}
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "consumer group to join; commits what was printed (default: no group, no commits)")
	f.BoolVar(&fromBeginning, "from-beginning", false, "start at the earliest offset instead of the latest")
	f.IntVarP(&count, "count", "n", 0, "stop after `N` records (0: run until SIGINT or SIGTERM)")
	f.StringArrayVar(&schemaFiles, "schema", nil, "Avro schema `FILE.avsc` to print records written with it as JSON; repeat for more versions")
	registryFlag(cmd)
	return cmd
}

// consume prints the records of topic; avro, when not nil, turns the
// Avro records it knows the schema of into JSON.
func (a *app) consume(cmd *cobra.Command, topic, group string, fromBeginning bool, count int, avro *avroDecoder) error {
	cfg, opts, stop, err := a.cluster(cmd)
	if err != nil {
		return err
	}
	defer stop()
	start := kgo.NewOffset().AtEnd()
	if fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	opts = append(opts,
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(start),
		// As the Java consumer does by default: a consumer may start
		// before the first producer, where the cluster allows it.
		kgo.AllowAutoTopicCreation(),
	)
	if group != "" {
		// Only what was printed is marked; marks are committed on an
		// interval, on revoke and once more before exit.
		opts = append(opts, kgo.ConsumerGroup(group), kgo.AutoCommitMarks())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx := cmd.Context()
	if err := pingCluster(ctx, cl, cfg.Kafka); err != nil {
		return err
	}

	out := newRecordWriter(a.stdout, a.output == "json", avro)
	loopErr := a.consumeLoop(ctx, cl, out, topic, group != "", count)
	if group == "" {
		return loopErr
	}
	cctx, cancel := context.WithTimeout(context.Background(), cfg.Kafka.RequestTimeout)
	defer cancel()
	if err := cl.CommitMarkedOffsets(cctx); err != nil {
		return errors.Join(loopErr, fmt.Errorf("commit offsets of group %s: %w", group, err))
	}
	return loopErr
}

// consumeLoop prints records until count is reached (0: no limit) or ctx
// is cancelled, marking each printed record for commit when grouped.
func (a *app) consumeLoop(ctx context.Context, cl *kgo.Client, out *recordWriter, topic string, grouped bool, count int) error {
	warned := map[string]bool{}
	printed := 0
	for count == 0 || printed < count {
		var fetches kgo.Fetches
		if count == 0 {
			fetches = cl.PollFetches(ctx)
		} else {
			fetches = cl.PollRecords(ctx, count-printed)
		}
		if ctx.Err() != nil {
			return nil // SIGINT or SIGTERM: a normal end
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) {
				continue
			}
			if !kerr.IsRetriable(fe.Err) {
				return fmt.Errorf("consume %s: %w", topic, fe.Err)
			}
			// The client retries these itself; say so once, as the
			// command may otherwise wait without a word.
			if msg := fe.Err.Error(); !warned[msg] {
				warned[msg] = true
				fmt.Fprintf(a.stderr, "actord: consume %s: %s (retrying)\n", topic, msg)
			}
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil {
				return
			}
			if werr = out.write(r); werr == nil {
				if grouped {
					cl.MarkCommitRecords(r)
				}
				printed++
			}
		})
		if werr == nil {
			werr = out.flush()
		}
		if werr != nil {
			return fmt.Errorf("write output: %w", werr)
		}
	}
	return nil
}

// recordWriter prints records as plain values or as JSON lines, Avro
// values as JSON when avro is set and knows their schema.
type recordWriter struct {
	w    *bufio.Writer
	enc  *json.Encoder
	json bool
	avro *avroDecoder
}

func newRecordWriter(w io.Writer, asJSON bool, avro *avroDecoder) *recordWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &recordWriter{w: bw, enc: enc, json: asJSON, avro: avro}
}

func (rw *recordWriter) write(r *kgo.Record) error {
	if rw.avro != nil {
		if v, ok := rw.avro.decode(r); ok {
			if !rw.json {
				rw.w.Write(v)
				return rw.w.WriteByte('\n')
			}
			rec := recordJSON(r)
			rec.Value = v
			return rw.enc.Encode(rec)
		}
	}
	if rw.json {
		return rw.enc.Encode(recordJSON(r))
	}
	rw.w.Write(r.Value)
	return rw.w.WriteByte('\n')
}

func (rw *recordWriter) flush() error { return rw.w.Flush() }

// jsonRecord is the JSON shape of one record, shared with the log handler
// kind: handler.Record.
type jsonRecord = handler.Record

// recordJSON is r in the shape of jsonRecord.
func recordJSON(r *kgo.Record) jsonRecord { return handler.RecordOf(r) }

// avroDecoder turns the Avro records of `consume --schema` into JSON
// values. It is used by one goroutine.
type avroDecoder struct {
	topic  string
	stderr io.Writer

	schemas []*schema.Schema          // distinct fingerprints, --schema order
	byFP    map[uint64]*schema.Schema // single-object: the writer by fingerprint
	byID    map[int]*schema.Schema    // Confluent: the schema learnt for an id; nil: none
	noted   map[string]bool

	// registry, when set, gives the schema of a Confluent id; ctx bounds
	// the wait for it.
	registry *schema.RegistryClient
	ctx      context.Context
}

// newAvroDecoder loads the --schema files. A file that does not load is
// an error naming it, before anything is read.
func newAvroDecoder(files []string, topic string, stderr io.Writer) (*avroDecoder, error) {
	d := &avroDecoder{
		topic:  topic,
		stderr: stderr,
		byFP:   map[uint64]*schema.Schema{},
		byID:   map[int]*schema.Schema{},
		noted:  map[string]bool{},
	}
	for _, f := range files {
		s, err := loadSchema(f)
		if err != nil {
			return nil, err
		}
		if _, dup := d.byFP[s.Fingerprint()]; dup {
			continue // same canonical form: same encoding
		}
		d.byFP[s.Fingerprint()] = s
		d.schemas = append(d.schemas, s)
	}
	return d, nil
}

// decode returns r's value as JSON (schema.DecodeJSON) when it is Avro
// written with a known schema; false means print the value as it is. An
// Avro record it cannot decode is noted on stderr, once per fingerprint or
// id.
func (d *avroDecoder) decode(r *kgo.Record) (json.RawMessage, bool) {
	h, body, err := schema.ReadHeader(r.Value)
	if err != nil {
		return nil, false // not Avro
	}
	var w *schema.Schema
	if h.Framing == schema.Confluent && d.registry != nil {
		if w = d.lookup(h.ID); w == nil {
			return nil, false
		}
	} else if h.Framing == schema.Confluent {
		w = d.learnID(h.ID, body)
		if w == nil {
			return nil, false
		}
	} else if w = d.byFP[h.Fingerprint]; w == nil {
		d.note(fmt.Sprintf("fp %d", h.Fingerprint), fmt.Sprintf("unknown schema fingerprint 0x%016x: printing raw bytes", h.Fingerprint))
		return nil, false
	}
	v, err := w.DecodeJSON(body)
	if err != nil {
		d.note(fmt.Sprintf("bad %s %d %d", h.Framing, h.Fingerprint, h.ID),
			fmt.Sprintf("%s/%d@%d: cannot decode as %s: %v: printing raw bytes", r.Topic, r.Partition, r.Offset, w.Name(), err))
		return nil, false
	}
	return v, true
}

// lookup returns the registry's schema of id, waiting with backoff while
// the registry cannot answer, until d.ctx ends; nil (noted on stderr) for
// an id the registry does not have, or when the wait ends.
func (d *avroDecoder) lookup(id int) *schema.Schema {
	var w *schema.Schema
	err := schema.Await(d.ctx, func(ctx context.Context) error {
		var err error
		w, err = d.registry.ByID(ctx, id)
		return err
	}, func(err error) { d.note("registry down", fmt.Sprintf("%v: waiting for it", err)) })
	if err != nil {
		if d.ctx.Err() == nil {
			d.note(fmt.Sprintf("id %d", id), fmt.Sprintf("%v: printing raw bytes", err))
		}
		return nil
	}
	return w
}

// learnID returns the schema of a Confluent registry id: the one --schema
// that reads body exactly, remembered for the rest of the run (an id names
// one schema). nil when none or several do.
func (d *avroDecoder) learnID(id int, body []byte) *schema.Schema {
	if w, seen := d.byID[id]; seen {
		return w
	}
	var fits []string
	var w *schema.Schema
	for _, s := range d.schemas {
		var v any
		if s.Decode(body, &v) == nil {
			fits = append(fits, s.Name())
			w = s
		}
	}
	switch len(fits) {
	case 1:
		d.byID[id] = w
		return w
	case 0:
		d.note(fmt.Sprintf("id %d", id), fmt.Sprintf("schema registry id %d: no --schema reads its records (consume has no schema registry): printing raw bytes", id))
	default:
		d.note(fmt.Sprintf("id %d", id), fmt.Sprintf("schema registry id %d: its records read as several --schema (%s): printing raw bytes", id, strings.Join(fits, ", ")))
	}
	d.byID[id] = nil
	return nil
}

// note prints msg on stderr the first time key is noted.
func (d *avroDecoder) note(key, msg string) {
	if d.noted[key] {
		return
	}
	d.noted[key] = true
	fmt.Fprintf(d.stderr, "actord: consume %s: %s\n", d.topic, msg)
}
