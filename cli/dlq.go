package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/config"
	"github.com/actord/actord/dlq"
	"github.com/actord/actord/topics"
)

// dlqCmd is `actord dlq`: inspect and replay dead-letter topics. The
// dead-letter format, reading a dead-letter topic and replay are package
// dlq's; this file is their command line: flags, output and errors.
func (a *app) dlqCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "list and replay the records of a dead-letter topic",
		Long: `Inspect and replay dead-letter topics: the records a consumer gave up on,
with the actord.dlq.* headers that say where each came from and why it failed.`,
		Args: cobra.ArbitraryArgs,
		// Without RunE cobra answers an unknown subcommand with the
		// help text and exit 0.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("unknown command %q for %q (want list or replay)", args[0], cmd.CommandPath())
		},
	}
	cmd.AddCommand(a.dlqListCmd(), a.dlqReplayCmd())
	return cmd
}

func (a *app) dlqListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list DLQ_TOPIC",
		Short: "show the dead letters of DLQ_TOPIC with their error and attempts",
		Long: `Read DLQ_TOPIC from its first to its current last record and show one row
per dead letter: where it sits in the DLQ, where it came from (topic,
partition, offset), how many attempts were made, when it failed and the
last error. Records are shown per partition in offset order. Nothing is
committed: listing never moves a replay.

With -o json, one JSON object per line: the fields of 'actord consume -o
json' plus "dlq", the parsed actord.dlq.* headers (null where absent):
  {"topic":"orders.dlq","partition":0,"offset":3,"key":"customer-7",
   "headers":{...},"value":"...","timestamp":"...",
   "dlq":{"topic":"orders","partition":1,"offset":41,"timestamp":"...",
          "group":"processor","error":"boom","attempts":3,"failed_at":"..."}}`,
		Example: `  actord dlq list orders.dlq
  actord dlq list orders.dlq -o json`,
		Args: oneTopic,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if err := topics.ValidateName(args[0]); err != nil {
				return err
			}
			return a.dlqList(cmd, args[0])
		},
	}
}

func (a *app) dlqReplayCmd() *cobra.Command {
	var to, group string
	cmd := &cobra.Command{
		Use:   "replay DLQ_TOPIC [--to TOPIC]",
		Short: "re-publish the dead letters of DLQ_TOPIC to their original topic",
		Long: `Re-publish every dead letter of DLQ_TOPIC to the topic it came from (its
actord.dlq.topic header), or to --to TOPIC. Key, value and headers are
kept; the actord.dlq.* headers are dropped. Records are written with
acks=all and idempotence.

The DLQ is read with a consumer group (default actord-dlq-replay-DLQ_TOPIC,
see --group) that commits each dead letter once its re-publish is
acknowledged. An interrupted or failed replay therefore resumes where it
stopped and does not publish twice what it finished.

The replay stops at the end of the DLQ as it was when the command started;
records dead-lettered meanwhile are left for the next run. A dead letter
without an actord.dlq.topic header stops the replay (with its partition
and offset) unless --to is given; the ones before it stay committed.`,
		Example: `  actord dlq replay orders.dlq
  actord dlq replay orders.dlq --to orders-retry`,
		Args: oneTopic,
		RunE: func(cmd *cobra.Command, args []string) error {
			topic := args[0]
			if err := topics.ValidateName(topic); err != nil {
				return err
			}
			if cmd.Flags().Changed("to") {
				if err := topics.ValidateName(to); err != nil {
					return fmt.Errorf("--to: %w", err)
				}
				if to == topic {
					return fmt.Errorf("--to %q is the dead-letter topic itself", to)
				}
			}
			if group == "" {
				group = dlq.DefaultGroupPrefix + topic
			}
			return a.dlqReplay(cmd, topic, to, group)
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "publish every dead letter to `TOPIC` instead of its original topic")
	f.StringVar(&group, "group", "", "consumer group that records the replay's progress (default actord-dlq-replay-DLQ_TOPIC)")
	return cmd
}

// dlqSession is what both dlq commands share: the configuration and a
// plain client on the cluster. The client consumes nothing: package dlq
// seeds its own short-lived consumers and producers with its options.
type dlqSession struct {
	cfg     config.Config
	cl      *kgo.Client
	timeout time.Duration
	close   func()
}

// openDLQ connects to the cluster (the embedded broker with --embedded).
// Its client never creates topics: asking about a DLQ that does not exist
// must not create it.
func (a *app) openDLQ(cmd *cobra.Command) (*dlqSession, error) {
	cfg, opts, stop, err := a.cluster(cmd)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		stop()
		return nil, err
	}
	s := &dlqSession{cfg: cfg, cl: cl, timeout: cfg.Kafka.RequestTimeout}
	s.close = func() { cl.Close(); stop() }
	if s.timeout <= 0 {
		s.timeout = topicsDefaultTimeout
	}
	if err := pingCluster(cmd.Context(), cl, cfg.Kafka); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// cliError is an error of package dlq as the command line says it: an
// interrupt (the signal context's end) as "interrupted", a cluster that
// cannot be reached as every command does when mapUnreachable (errors
// from before the first record is read), and a dead letter without a
// destination with how to give it one.
func (s *dlqSession) cliError(ctx context.Context, err error, mapUnreachable bool) error {
	var de *dlq.DestinationError
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case errors.As(err, &de) && de.Err == nil && de.Reason == dlq.ReasonNoTopic:
		return fmt.Errorf("%w; pass --to TOPIC to choose its destination", err)
	case errors.As(err, &de) && de.Err == nil && de.Reason == dlq.ReasonOwnTopic:
		return fmt.Errorf("%w; pass --to TOPIC", err)
	case mapUnreachable && isUnreachable(err):
		return brokerUnreachable(s.cfg.Kafka.Brokers(), err)
	}
	return err
}

// dlqList prints the dead letters of topic from its start to its end
// offsets as they are at start (dlq.Scan: no group, no commit).
func (a *app) dlqList(cmd *cobra.Command, topic string) error {
	s, err := a.openDLQ(cmd)
	if err != nil {
		return err
	}
	defer s.close()
	ctx := cmd.Context()
	out := newDLQWriter(a, a.output == "json")
	for l, err := range dlq.Scan(ctx, s.cl, topic, dlq.Timeout(s.timeout)) {
		if err != nil {
			return s.cliError(ctx, err, true)
		}
		if err := out.write(l); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// dlqInfo is the parsed actord.dlq.* headers of a dead letter; a field is
// null when its header is absent (or, for numbers, not a number).
type dlqInfo struct {
	Topic     *string `json:"topic"`
	Partition *int32  `json:"partition"`
	Offset    *int64  `json:"offset"`
	Timestamp *string `json:"timestamp"`
	Group     *string `json:"group"`
	Error     *string `json:"error"`
	Attempts  *int    `json:"attempts"`
	FailedAt  *string `json:"failed_at"`
}

// dlqRecordJSON is one line of `actord dlq list -o json`.
type dlqRecordJSON struct {
	jsonRecord
	DLQ dlqInfo `json:"dlq"`
}

// dlqInfoOf is what l's headers say: the text fields as written (a header
// that repeats keeps its last value), the numbers where they parse. A
// record that is not a dead letter (l.Err set) shows what it has.
func dlqInfoOf(l dlq.Letter) dlqInfo {
	raw := func(name string) *string {
		if v, ok := l.Raw(name); ok {
			return &v
		}
		return nil
	}
	d := dlqInfo{
		Topic:     raw(dlq.HeaderTopic),
		Timestamp: raw(dlq.HeaderTimestamp),
		Group:     raw(dlq.HeaderGroup),
		Error:     raw(dlq.HeaderError),
		FailedAt:  raw(dlq.HeaderFailedAt),
	}
	if l.Has(dlq.HeaderPartition) {
		d.Partition = &l.Partition
	}
	if l.Has(dlq.HeaderOffset) {
		d.Offset = &l.Offset
	}
	if l.Has(dlq.HeaderAttempts) {
		d.Attempts = &l.Attempts
	}
	return d
}

// dlqWriter prints dead letters as a table or as JSON lines.
type dlqWriter struct {
	w    *bufio.Writer
	enc  *json.Encoder
	tw   *tabwriter.Writer
	json bool
}

func newDLQWriter(a *app, asJSON bool) *dlqWriter {
	bw := bufio.NewWriter(a.stdout)
	dw := &dlqWriter{w: bw, json: asJSON}
	if asJSON {
		dw.enc = json.NewEncoder(bw)
		dw.enc.SetEscapeHTML(false)
		return dw
	}
	dw.tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(dw.tw, "PARTITION\tOFFSET\tSOURCE TOPIC\tSOURCE PARTITION\tSOURCE OFFSET\tATTEMPTS\tFAILED AT\tERROR")
	return dw
}

// write prints l: a JSON line at once, a table row at the end, as the
// table's columns depend on every row.
func (dw *dlqWriter) write(l dlq.Letter) error {
	d := dlqInfoOf(l)
	if dw.json {
		if err := dw.enc.Encode(dlqRecordJSON{jsonRecord: recordJSON(l.Record), DLQ: d}); err != nil {
			return err
		}
		return dw.w.Flush()
	}
	failedAt := orDash(d.FailedAt)
	if l.Has(dlq.HeaderFailedAt) {
		failedAt = l.FailedAt.UTC().Format(time.RFC3339)
	}
	errText := "-"
	if d.Error != nil {
		errText = oneLine(*d.Error)
	}
	_, err := fmt.Fprintf(dw.tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", l.At.Partition, l.At.Offset,
		orDash(d.Topic), numOrDash(d.Partition), numOrDash(d.Offset), numOrDash(d.Attempts), failedAt, errText)
	return err
}

func (dw *dlqWriter) flush() error {
	if dw.tw != nil {
		if err := dw.tw.Flush(); err != nil {
			return err
		}
	}
	return dw.w.Flush()
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}

func numOrDash[N int | int32 | int64](n *N) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

// dlqReplay re-publishes the dead letters of topic up to its end offsets
// at start (dlq.ReplayTopic: each committed for group once its copy is
// acknowledged) and prints what it did.
func (a *app) dlqReplay(cmd *cobra.Command, topic, to, group string) error {
	s, err := a.openDLQ(cmd)
	if err != nil {
		return err
	}
	defer s.close()
	opts := []dlq.TopicReplayOption{
		dlq.Group(group),
		dlq.Timeout(s.timeout),
		// The destination may not exist yet (a --to topic); create it
		// where the cluster allows, as `actord produce` does.
		dlq.CreateTopics(),
		dlq.CheckTopic(topics.ValidateName),
	}
	if to != "" {
		opts = append(opts, dlq.To(to))
	}
	ctx := cmd.Context()
	rep, err := dlq.ReplayTopic(ctx, s.cl, topic, opts...)
	if err != nil {
		err = s.cliError(ctx, err, !rep.Started)
		if !rep.Started {
			return err
		}
		return fmt.Errorf("%s, then stopped: %w", rep, err)
	}
	fmt.Fprintln(a.stdout, rep)
	return nil
}
