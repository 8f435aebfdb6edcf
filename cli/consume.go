package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeCmd is `actord consume TOPIC`: print records as they arrive.
func (a *app) consumeCmd() *cobra.Command {
	var (
		group         string
		fromBeginning bool
		count         int
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
name that repeats keeps its last value); timestamp is RFC 3339 in UTC.`,
		Example: `  actord consume orders --from-beginning -n 10 -o json
  actord consume orders --group audit`,
		Args: oneTopic,
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 0 {
				return fmt.Errorf("-n %d: want a count of records, 0 for no limit", count)
			}
			if err := a.checkOutput(); err != nil {
				return err
			}
			return a.consume(cmd, args[0], group, fromBeginning, count)
		},
	}
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "consumer group to join; commits what was printed (default: no group, no commits)")
	f.BoolVar(&fromBeginning, "from-beginning", false, "start at the earliest offset instead of the latest")
	f.IntVarP(&count, "count", "n", 0, "stop after `N` records (0: run until SIGINT or SIGTERM)")
	return cmd
}

func (a *app) consume(cmd *cobra.Command, topic, group string, fromBeginning bool, count int) error {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return err
	}
	stop, err := a.connect(&cfg)
	if err != nil {
		return err
	}
	defer stop()

	opts, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return err
	}
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

	out := newRecordWriter(a.stdout, a.output == "json")
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

// recordWriter prints records as plain values or as JSON lines.
type recordWriter struct {
	w    *bufio.Writer
	enc  *json.Encoder
	json bool
}

func newRecordWriter(w io.Writer, asJSON bool) *recordWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &recordWriter{w: bw, enc: enc, json: asJSON}
}

func (rw *recordWriter) write(r *kgo.Record) error {
	if rw.json {
		return rw.enc.Encode(recordJSON(r))
	}
	rw.w.Write(r.Value)
	return rw.w.WriteByte('\n')
}

func (rw *recordWriter) flush() error { return rw.w.Flush() }

// jsonRecord is the JSON shape of one record, shared by `actord consume -o
// json` and the log handler kind: exactly these fields, in this order.
// Key, Value and header values are a string when valid UTF-8, null when
// absent and {"base64": "..."} otherwise (see jsonBytes).
type jsonRecord struct {
	Topic     string         `json:"topic"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
	Key       any            `json:"key"`
	Headers   map[string]any `json:"headers"`
	Value     any            `json:"value"`
	Timestamp string         `json:"timestamp"`
}

// recordJSON is r in the shape of jsonRecord. A header name that repeats
// keeps its last value.
func recordJSON(r *kgo.Record) jsonRecord {
	hs := make(map[string]any, len(r.Headers))
	for _, h := range r.Headers {
		hs[h.Key] = jsonBytes(h.Value)
	}
	return jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Key:       jsonBytes(r.Key),
		Headers:   hs,
		Value:     jsonBytes(r.Value),
		Timestamp: r.Timestamp.UTC().Format(time.RFC3339Nano),
	}
}

// jsonBytes is b for JSON without loss: nil stays null, valid UTF-8 is a
// string, anything else is {"base64": "..."} (a bare string would have
// its invalid bytes replaced).
func jsonBytes(b []byte) any {
	switch {
	case b == nil:
		return nil
	case utf8.Valid(b):
		return string(b)
	default:
		return map[string]string{"base64": base64.StdEncoding.EncodeToString(b)}
	}
}
