package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/topics"
)

// dlqHeaderPrefix starts every header the runtime adds to a dead letter
// (actors.HeaderDLQ*); replay strips them all, so a record that fails
// again is dead-lettered with fresh ones only.
const dlqHeaderPrefix = "actord.dlq."

// dlqCmd is `actord dlq`: inspect and replay dead-letter topics.
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
			dlq := args[0]
			if err := topics.ValidateName(dlq); err != nil {
				return err
			}
			if cmd.Flags().Changed("to") {
				if err := topics.ValidateName(to); err != nil {
					return fmt.Errorf("--to: %w", err)
				}
				if to == dlq {
					return fmt.Errorf("--to %q is the dead-letter topic itself", to)
				}
			}
			if group == "" {
				group = "actord-dlq-replay-" + dlq
			}
			return a.dlqReplay(cmd, dlq, to, group)
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "publish every dead letter to `TOPIC` instead of its original topic")
	f.StringVar(&group, "group", "", "consumer group that records the replay's progress (default actord-dlq-replay-DLQ_TOPIC)")
	return cmd
}

// dlqSession is what both dlq commands share: the configuration, a plain
// client on the cluster and the DLQ's bounds captured at start.
type dlqSession struct {
	cfg     config.Config
	opts    []kgo.Opt
	cl      *kgo.Client
	adm     *kadm.Client
	timeout time.Duration
	start   map[int32]int64
	end     map[int32]int64
	close   func()
}

// openDLQ connects to the cluster (the embedded broker with --embedded) and
// captures the start and end offsets of every partition of dlq. Its client
// never creates topics: asking about a DLQ that does not exist must not
// create it.
func (a *app) openDLQ(cmd *cobra.Command, dlq string) (*dlqSession, error) {
	cfg, opts, stop, err := a.cluster(cmd)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		stop()
		return nil, err
	}
	s := &dlqSession{cfg: cfg, opts: opts, cl: cl, adm: kadm.NewClient(cl), timeout: cfg.Kafka.RequestTimeout}
	s.close = func() { cl.Close(); stop() }
	if s.timeout <= 0 {
		s.timeout = topicsDefaultTimeout
	}
	if err := pingCluster(cmd.Context(), cl, cfg.Kafka); err != nil {
		s.close()
		return nil, err
	}
	if err := s.bounds(cmd.Context(), dlq); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// bounds lists the end offsets first: what is read is at most what was
// there when the command started.
func (s *dlqSession) bounds(ctx context.Context, dlq string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var err error
	if s.end, err = s.listOffsets(ctx, dlq, s.adm.ListEndOffsets); err != nil {
		return err
	}
	s.start, err = s.listOffsets(ctx, dlq, s.adm.ListStartOffsets)
	return err
}

func (s *dlqSession) listOffsets(ctx context.Context, dlq string, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
	listed, err := list(ctx, dlq)
	if err == nil {
		err = listed.Error()
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return nil, fmt.Errorf("dead-letter topic %q does not exist", dlq)
	case isUnreachable(err):
		return nil, brokerUnreachable(s.cfg.Kafka.Brokers(), err)
	case err != nil:
		return nil, fmt.Errorf("offsets of %s: %w", dlq, err)
	}
	out := make(map[int32]int64, len(listed[dlq]))
	for p, o := range listed[dlq] {
		out[p] = o.Offset
	}
	return out, nil
}

// dlqReader polls records of one topic until every partition has reached
// the end offset captured at start, never returning a record at or past
// it. Each wait for records is bounded by timeout, so a partition that
// cannot be read is an error, not a hang.
type dlqReader struct {
	cl      *kgo.Client
	topic   string
	end     map[int32]int64
	next    map[int32]int64
	paused  map[int32]bool
	timeout time.Duration

	// group, when set, is the consumer group the client reads with, and
	// assigned reports whether it was given any partition yet: a wait
	// that ends before then means other members hold them all.
	group    string
	assigned *atomic.Bool
}

// newDLQReader starts at next (per partition) and pauses the partitions
// that are already done, so that their fetches do not hold the others.
func newDLQReader(cl *kgo.Client, topic string, next, end map[int32]int64, timeout time.Duration) *dlqReader {
	r := &dlqReader{cl: cl, topic: topic, end: end, next: next, paused: map[int32]bool{}, timeout: timeout}
	r.pauseReached()
	return r
}

// reachedEnd reports whether every partition's next offset is at or past
// its end offset.
func reachedEnd(next, end map[int32]int64) bool {
	for p, e := range end {
		if next[p] < e {
			return false
		}
	}
	return true
}

// pauseReached stops fetching the partitions that reached their end: what
// comes after belongs to the next run.
func (r *dlqReader) pauseReached() {
	var reached []int32
	for p, e := range r.end {
		if r.next[p] >= e && !r.paused[p] {
			r.paused[p] = true
			reached = append(reached, p)
		}
	}
	if len(reached) > 0 {
		r.cl.PauseFetchPartitions(map[string][]int32{r.topic: reached})
	}
}

// poll returns the next records, per partition in offset order; nil and
// no error once every partition reached its end.
func (r *dlqReader) poll(ctx context.Context) ([]*kgo.Record, error) {
	for !reachedEnd(r.next, r.end) {
		pctx, cancel := context.WithTimeout(ctx, r.timeout)
		fetches := r.cl.PollFetches(pctx)
		timedOut := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return nil, errors.New("interrupted")
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) || kerr.IsRetriable(fe.Err) {
				continue // retried by the client; a lasting one ends in the timeout below
			}
			return nil, fmt.Errorf("read %s partition %d: %w", r.topic, fe.Partition, fe.Err)
		}
		var out []*kgo.Record
		fetches.EachRecord(func(rec *kgo.Record) {
			end, ok := r.end[rec.Partition]
			if rec.Topic != r.topic || !ok || rec.Offset < r.next[rec.Partition] || r.next[rec.Partition] >= end {
				return
			}
			r.next[rec.Partition] = rec.Offset + 1
			if rec.Offset < end {
				out = append(out, rec)
			}
		})
		r.pauseReached()
		if len(out) > 0 {
			return out, nil
		}
		if timedOut && !reachedEnd(r.next, r.end) {
			return nil, r.stuck()
		}
	}
	return nil, nil
}

// stuck names the first partition that did not reach its end in time.
func (r *dlqReader) stuck() error {
	if r.assigned != nil && !r.assigned.Load() {
		return fmt.Errorf("read %s: group %s assigned this replay no partition within %s (another member of the group, such as a replay still running or one killed less than a session timeout ago, holds them)",
			r.topic, r.group, r.timeout)
	}
	hint := ""
	if r.group != "" {
		hint = fmt.Sprintf("; another member of group %s may hold it", r.group)
	}
	for _, p := range slices.Sorted(maps.Keys(r.end)) {
		if r.next[p] < r.end[p] {
			return fmt.Errorf("read %s: partition %d gave no records within %s (at offset %d, end offset %d%s)",
				r.topic, p, r.timeout, r.next[p], r.end[p], hint)
		}
	}
	return nil
}

// dlqList prints the dead letters of dlq between the start and end offsets
// captured at start, reading the partitions directly (no group, no
// commit).
func (a *app) dlqList(cmd *cobra.Command, dlq string) error {
	s, err := a.openDLQ(cmd, dlq)
	if err != nil {
		return err
	}
	defer s.close()

	offsets := map[int32]kgo.Offset{}
	for p, end := range s.end {
		if s.start[p] < end {
			offsets[p] = kgo.NewOffset().At(s.start[p])
		}
	}
	out := newDLQWriter(a, a.output == "json")
	if len(offsets) > 0 {
		cl, err := kgo.NewClient(append(slices.Clip(s.opts), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{dlq: offsets}))...)
		if err != nil {
			return err
		}
		defer cl.Close()
		rd := newDLQReader(cl, dlq, maps.Clone(s.start), s.end, s.timeout)
		for {
			recs, err := rd.poll(cmd.Context())
			if err != nil {
				return err
			}
			if recs == nil {
				break
			}
			for _, r := range recs {
				if err := out.write(r); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
			}
			if err := out.flushJSON(); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
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

// parseDLQHeaders reads the actord.dlq.* headers of r; a header that
// repeats keeps its last value, as in recordJSON.
func parseDLQHeaders(r *kgo.Record) dlqInfo {
	var d dlqInfo
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case actors.HeaderDLQTopic:
			d.Topic = &v
		case actors.HeaderDLQPartition:
			d.Partition = nil
			if n, err := strconv.ParseInt(v, 10, 32); err == nil {
				p := int32(n)
				d.Partition = &p
			}
		case actors.HeaderDLQOffset:
			d.Offset = nil
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.Offset = &n
			}
		case actors.HeaderDLQTimestamp:
			d.Timestamp = &v
		case actors.HeaderDLQGroup:
			d.Group = &v
		case actors.HeaderDLQError:
			d.Error = &v
		case actors.HeaderDLQAttempts:
			d.Attempts = nil
			if n, err := strconv.Atoi(v); err == nil {
				d.Attempts = &n
			}
		case actors.HeaderDLQFailedAt:
			d.FailedAt = &v
		}
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

func (dw *dlqWriter) write(r *kgo.Record) error {
	d := parseDLQHeaders(r)
	if dw.json {
		return dw.enc.Encode(dlqRecordJSON{jsonRecord: recordJSON(r), DLQ: d})
	}
	failedAt := orDash(d.FailedAt)
	if t, err := time.Parse(time.RFC3339Nano, failedAt); err == nil {
		failedAt = t.UTC().Format(time.RFC3339)
	}
	errText := "-"
	if d.Error != nil {
		errText = oneLine(*d.Error)
	}
	_, err := fmt.Fprintf(dw.tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Partition, r.Offset,
		orDash(d.Topic), numOrDash(d.Partition), numOrDash(d.Offset), numOrDash(d.Attempts), failedAt, errText)
	return err
}

// flushJSON writes out what JSON lines are buffered; a table is written
// whole at the end, as its columns depend on every row.
func (dw *dlqWriter) flushJSON() error {
	if !dw.json {
		return nil
	}
	return dw.w.Flush()
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

// dlqReplay re-publishes the dead letters of dlq up to the end offsets
// captured at start, committing each DLQ record for group once its copy is
// acknowledged.
func (a *app) dlqReplay(cmd *cobra.Command, dlq, to, group string) error {
	s, err := a.openDLQ(cmd, dlq)
	if err != nil {
		return err
	}
	defer s.close()

	next, err := s.groupPositions(cmd.Context(), dlq, group)
	if err != nil {
		return err
	}
	rp := &replay{dlq: dlq, to: to, counts: map[string]int64{}}
	if !reachedEnd(next, s.end) {
		prod, err := kgo.NewClient(append(slices.Clip(s.opts),
			// The destination may not exist yet (a --to topic);
			// create it where the cluster allows, as `actord
			// produce` does.
			kgo.AllowAutoTopicCreation(),
			kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.RecordDeliveryTimeout(s.timeout),
		)...)
		if err != nil {
			return err
		}
		defer prod.Close()
		var assigned atomic.Bool
		gcl, err := kgo.NewClient(append(slices.Clip(s.opts),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, added map[string][]int32) {
				if len(added[dlq]) > 0 {
					assigned.Store(true)
				}
			}),
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(dlq),
			kgo.DisableAutoCommit(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		)...)
		if err != nil {
			return err
		}
		// Leaving the group commits nothing: every commit was made
		// after its batch was acknowledged.
		defer gcl.Close()
		rd := newDLQReader(gcl, dlq, next, s.end, s.timeout)
		rd.group, rd.assigned = group, &assigned
		if err := rp.run(cmd.Context(), rd, prod, gcl, s.timeout); err != nil {
			return fmt.Errorf("%s, then stopped: %w", rp.summary(), err)
		}
	}
	fmt.Fprintln(a.stdout, rp.summary())
	return nil
}

// groupPositions is where group will start reading each partition of dlq:
// its committed offset, or the partition's first offset where it has none
// (or where retention removed the committed one).
func (s *dlqSession) groupPositions(ctx context.Context, dlq, group string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	committed, err := s.adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		committed, err = nil, nil // a first replay: some clusters say so, others answer with no offsets
	case isUnreachable(err):
		return nil, brokerUnreachable(s.cfg.Kafka.Brokers(), err)
	case err != nil:
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	next := maps.Clone(s.start)
	for p := range s.end {
		if o, ok := committed.Lookup(dlq, p); ok && o.At > next[p] {
			next[p] = o.At
		}
	}
	return next, nil
}

// replay is one run of `actord dlq replay`.
type replay struct {
	dlq    string
	to     string
	counts map[string]int64 // acknowledged and committed, per destination
}

// run replays batch by batch: publish, wait for every acknowledgement,
// commit what was acknowledged, then poll again.
func (rp *replay) run(ctx context.Context, rd *dlqReader, prod, group *kgo.Client, timeout time.Duration) error {
	for {
		recs, err := rd.poll(ctx)
		if err != nil || recs == nil {
			return err
		}
		var stop error
		out := make([]*kgo.Record, 0, len(recs))
		for _, r := range recs {
			dest, err := rp.destination(r)
			if err != nil {
				// Only what came before it is published and
				// committed.
				stop = err
				break
			}
			out = append(out, republished(r, dest))
		}
		if err := rp.publish(recs[:len(out)], out, prod, group, timeout); err != nil {
			return err
		}
		if stop != nil {
			return stop
		}
	}
}

// destination is --to, else the topic r was dead-lettered from.
func (rp *replay) destination(r *kgo.Record) (string, error) {
	if rp.to != "" {
		return rp.to, nil
	}
	d := parseDLQHeaders(r)
	where := fmt.Sprintf("dead letter at partition %d offset %d", r.Partition, r.Offset)
	switch {
	case d.Topic == nil || *d.Topic == "":
		return "", fmt.Errorf("%s has no %s header; pass --to TOPIC to choose its destination", where, actors.HeaderDLQTopic)
	case *d.Topic == rp.dlq:
		return "", fmt.Errorf("%s names the dead-letter topic itself in %s; pass --to TOPIC", where, actors.HeaderDLQTopic)
	}
	if err := topics.ValidateName(*d.Topic); err != nil {
		return "", fmt.Errorf("%s: %s header: %w", where, actors.HeaderDLQTopic, err)
	}
	return *d.Topic, nil
}

// republished is the copy of dead letter r for dest: its key, value and
// headers without the actord.dlq.* ones; partition and timestamp are left
// to the producer.
func republished(r *kgo.Record, dest string) *kgo.Record {
	hs := make([]kgo.RecordHeader, 0, len(r.Headers))
	for _, h := range r.Headers {
		if !strings.HasPrefix(h.Key, dlqHeaderPrefix) {
			hs = append(hs, h)
		}
	}
	return &kgo.Record{Topic: dest, Key: r.Key, Value: r.Value, Headers: hs}
}

// publish produces out (the copies of src, index for index) synchronously
// and commits, per DLQ partition, the records acknowledged before the
// first failure of that partition. The background context keeps a signal
// from half-cancelling a batch: produce is bounded by the client's
// delivery timeout, the commit by timeout.
func (rp *replay) publish(src, out []*kgo.Record, prod, group *kgo.Client, timeout time.Duration) error {
	if len(out) == 0 {
		return nil
	}
	results := prod.ProduceSync(context.Background(), out...)
	failed := map[int32]bool{}
	var commit []*kgo.Record
	var firstErr error
	acked := map[string]int64{}
	for i, res := range results {
		p := src[i].Partition
		if res.Err != nil || failed[p] {
			if res.Err != nil && firstErr == nil {
				firstErr = fmt.Errorf("publish dead letter at partition %d offset %d to %s: %w", p, src[i].Offset, out[i].Topic, res.Err)
			}
			failed[p] = true
			continue
		}
		commit = append(commit, src[i])
		acked[out[i].Topic]++
	}
	if len(commit) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := group.CommitRecords(ctx, commit...); err != nil {
			return errors.Join(firstErr, fmt.Errorf("commit replay progress: %w (the last batch may be published again by the next run)", err))
		}
	}
	for dest, n := range acked {
		rp.counts[dest] += n
	}
	return firstErr
}

// summary is "replayed N records from DLQ to T" with per-destination
// counts when there are several.
func (rp *replay) summary() string {
	var total int64
	for _, n := range rp.counts {
		total += n
	}
	s := fmt.Sprintf("replayed %s from %s", records(total), rp.dlq)
	dests := slices.Sorted(maps.Keys(rp.counts))
	switch {
	case len(dests) == 0 && rp.to != "":
		s += " to " + rp.to
	case len(dests) == 1:
		s += " to " + dests[0]
	case len(dests) > 1:
		parts := make([]string, len(dests))
		for i, d := range dests {
			parts[i] = fmt.Sprintf("%s (%d)", d, rp.counts[d])
		}
		s += " to " + strings.Join(parts, ", ")
	}
	return s
}
