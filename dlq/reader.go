package dlq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnknownTopic is matched (errors.Is) by the error of a read or replay
// of a dead-letter topic that does not exist. Asking never creates it.
var ErrUnknownTopic = errors.New("dead-letter topic does not exist")

type unknownTopicError struct{ topic string }

func (e *unknownTopicError) Error() string {
	return fmt.Sprintf("dead-letter topic %q does not exist", e.topic)
}
func (e *unknownTopicError) Is(target error) bool { return target == ErrUnknownTopic }

// checkPlain refuses a client that consumes: the consumers this package
// builds from its options would consume what it does, too.
func checkPlain(cl *kgo.Client) error {
	if cl == nil {
		return errors.New("dlq: nil client")
	}
	var what []string
	if g, _ := cl.OptValue(kgo.ConsumerGroup).(string); g != "" {
		what = append(what, "ConsumerGroup")
	}
	if g, _ := cl.OptValue(kgo.ShareGroup).(string); g != "" {
		what = append(what, "ShareGroup")
	}
	if ts, _ := cl.OptValue(kgo.ConsumeTopics).([]string); len(ts) > 0 {
		what = append(what, "ConsumeTopics")
	}
	if ps, _ := cl.OptValue(kgo.ConsumePartitions).(map[string]map[int32]kgo.Offset); len(ps) > 0 {
		what = append(what, "ConsumePartitions")
	}
	if len(what) > 0 {
		return fmt.Errorf("dlq: the client consumes (%v); pass one that does not, its options seed the package's own consumers", what)
	}
	return nil
}

// derive is a new client with cl's options and then opts.
func derive(cl *kgo.Client, opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(slices.Clip(cl.Opts()), opts...)...)
}

// bounds are the start and end offsets of every partition of a topic.
// The end offsets are listed first: what is read is at most what was
// there when the call started.
func bounds(ctx context.Context, cl *kgo.Client, topic string, timeout time.Duration) (start, end map[int32]int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	adm := kadm.NewClient(cl)
	if end, err = listOffsets(ctx, topic, adm.ListEndOffsets); err != nil {
		return nil, nil, err
	}
	start, err = listOffsets(ctx, topic, adm.ListStartOffsets)
	return start, end, err
}

func listOffsets(ctx context.Context, topic string, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
	listed, err := list(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return nil, &unknownTopicError{topic}
	case err != nil:
		return nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64, len(listed[topic]))
	for p, o := range listed[topic] {
		out[p] = o.Offset
	}
	if len(out) == 0 {
		return nil, &unknownTopicError{topic}
	}
	return out, nil
}

// reader polls records of one topic until every partition has reached
// the end offset captured at start, never returning a record at or past
// it. Each wait for records is bounded by timeout.
type reader struct {
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

// newReader starts at next (per partition) and pauses the partitions
// that are already done, so that their fetches do not hold the others.
func newReader(cl *kgo.Client, topic string, next, end map[int32]int64, timeout time.Duration) *reader {
	r := &reader{cl: cl, topic: topic, end: end, next: next, paused: map[int32]bool{}, timeout: timeout}
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
// comes after belongs to the next call.
func (r *reader) pauseReached() {
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
func (r *reader) poll(ctx context.Context) ([]*kgo.Record, error) {
	for !reachedEnd(r.next, r.end) {
		pctx, cancel := context.WithTimeout(ctx, r.timeout)
		fetches := r.cl.PollFetches(pctx)
		timedOut := pctx.Err() != nil
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", r.topic, err)
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) || kerr.IsRetriable(fe.Err) {
				continue // retried by the client; a lasting one ends in the timeout below
			}
			return nil, fmt.Errorf("read %s partition %d: %w", r.topic, fe.Partition, fe.Err)
		}
		out := r.take(fetches)
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

// take keeps the records of fetches that are new and before their end.
func (r *reader) take(fetches kgo.Fetches) []*kgo.Record {
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
	return out
}

// stuck names the first partition that did not reach its end in time.
func (r *reader) stuck() error {
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
