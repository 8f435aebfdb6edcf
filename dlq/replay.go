package dlq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DestinationError stops a replay at a letter it cannot send anywhere:
// without [To], one with no (or an empty) [HeaderTopic], one naming its
// own dead-letter topic, or one whose topic [CheckTopic] rejects. The
// letters before it are replayed.
type DestinationError struct {
	// At is where the dead letter sits.
	At Position
	// Reason says what is wrong with its destination.
	Reason string
	// Err is the [CheckTopic] error, if that is the reason.
	Err error
}

// Error names the dead letter by partition and offset, and the reason.
func (e *DestinationError) Error() string {
	where := fmt.Sprintf("dead letter at partition %d offset %d", e.At.Partition, e.At.Offset)
	if e.Err != nil {
		return fmt.Sprintf("%s: %s header: %v", where, HeaderTopic, e.Err)
	}
	return where + " " + e.Reason
}

// Unwrap returns the [CheckTopic] error.
func (e *DestinationError) Unwrap() error { return e.Err }

// The Reason of a [DestinationError] without Err, so that a caller can
// tell them apart (`actord dlq replay` adds a hint to each).
const (
	// ReasonNoTopic: without [To], the letter has no (or an empty)
	// [HeaderTopic].
	ReasonNoTopic = "has no " + HeaderTopic + " header"
	// ReasonOwnTopic: without [To], the letter's [HeaderTopic] is the
	// dead-letter topic it sits in.
	ReasonOwnTopic = "names the dead-letter topic itself in " + HeaderTopic
	// ReasonStub: the letter is a stub ([Stub]) and holds no record.
	ReasonStub = "is a stub without the original record"
)

// ReplayReport says what a replay did.
type ReplayReport struct {
	// From is the dead-letter topic (empty when the letters came from
	// several or there were none).
	From string
	// To is the [To] topic, if given.
	To string
	// DryRun is true for a [DryRun]: Replayed is what would have been.
	DryRun bool
	// Started is true once the call got past its setup (options, client,
	// the topic's and the group's offsets, its own clients) to the
	// letters. An error with Started false produced and committed
	// nothing; one with Started true may follow letters replayed.
	Started bool
	// Replayed counts, per destination topic, the copies acknowledged
	// (and, for [ReplayTopic], committed).
	Replayed map[string]int64
}

// Total is the number of letters replayed.
func (r ReplayReport) Total() int64 {
	var n int64
	for _, c := range r.Replayed {
		n += c
	}
	return n
}

// String is the summary `actord dlq replay` prints: "replayed N records
// from DLQ to TOPIC", with per-destination counts when there are several
// ("to orders (2), payments (1)"); "would replay" for a dry run.
func (r ReplayReport) String() string {
	verb := "replayed"
	if r.DryRun {
		verb = "would replay"
	}
	s := fmt.Sprintf("%s %s", verb, records(r.Total()))
	if r.From != "" {
		s += " from " + r.From
	}
	dests := slices.Sorted(maps.Keys(r.Replayed))
	switch {
	case len(dests) == 0 && r.To != "":
		s += " to " + r.To
	case len(dests) == 1:
		s += " to " + dests[0]
	case len(dests) > 1:
		parts := make([]string, len(dests))
		for i, d := range dests {
			parts[i] = fmt.Sprintf("%s (%d)", d, r.Replayed[d])
		}
		s += " to " + strings.Join(parts, ", ")
	}
	return s
}

func records(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

// Copy is the record a replay produces for l to topic: l's key, value
// and original headers (no actord.dlq.* ones). Partition and timestamp
// are left to the producer, so the partition follows the key.
func Copy(l Letter, topic string) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: l.Key, Value: l.Value, Headers: slices.Clone(l.Headers)}
}

// destination is [To], else the topic l was dead-lettered from.
func (c *replayConfig) destination(l Letter) (string, error) {
	if why, stub := l.Raw(HeaderStub); stub {
		// A stub holds no record to replay: the original is still in its
		// source topic (until retention), where it must be read from.
		return "", &DestinationError{At: l.At, Reason: ReasonStub + " (" + why + "); replay the original from " +
			l.Topic + " partition " + strconv.Itoa(int(l.Partition)) + " offset " + strconv.FormatInt(l.Offset, 10)}
	}
	dest := c.to
	if dest == "" {
		dest, _ = l.Raw(HeaderTopic)
		if dest == "" {
			return "", &DestinationError{At: l.At, Reason: ReasonNoTopic}
		}
	}
	if dest == l.At.Topic {
		return "", &DestinationError{At: l.At, Reason: ReasonOwnTopic}
	}
	if c.checkTopic != nil {
		if err := c.checkTopic(dest); err != nil {
			return "", &DestinationError{At: l.At, Err: err}
		}
	}
	return dest, nil
}

// destinations are the destinations of ls up to the first letter without
// one, and that letter's error.
func (c *replayConfig) destinations(ls []Letter) ([]string, error) {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		d, err := c.destination(l)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// producer is a client with cl's options that writes with acks=all and
// gives each produce timeout.
func (c *replayConfig) producer(cl *kgo.Client) (*kgo.Client, error) {
	opts := []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(c.timeout)}
	if c.create {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	prod, err := derive(cl, opts...)
	if err != nil {
		return nil, fmt.Errorf("dlq: replay producer: %w", err)
	}
	return prod, nil
}

// Replay produces a copy ([Copy]) of each letter to its original topic
// ([HeaderTopic]) or to [To], with acks=all, and waits for every
// acknowledgement. It stops before the first letter without a destination
// ([DestinationError]); the letters before it are produced. The report
// counts the acknowledged copies, also when an error is returned.
//
// Replay marks nothing: to replay a topic resumably, each dead letter
// once, use [ReplayTopic]. A produce once started is waited for, bounded
// by [Timeout] rather than by ctx, so that cancelling never leaves a copy
// whose outcome is unknown. Replay builds one producer from cl's options
// for the call.
func Replay(ctx context.Context, cl *kgo.Client, letters []Letter, opts ...ReplayOption) (ReplayReport, error) {
	cfg, err := newReplayConfig(opts)
	if err != nil {
		return ReplayReport{}, err
	}
	rep := ReplayReport{From: commonTopic(letters), To: cfg.to, DryRun: cfg.dryRun, Replayed: map[string]int64{}}
	if err := checkPlain(cl); err != nil {
		return rep, err
	}
	rep.Started = true
	dests, stop := cfg.destinations(letters)
	if cfg.dryRun || len(dests) == 0 {
		for _, d := range dests {
			rep.Replayed[d]++
		}
		return rep, stop
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	prod, err := cfg.producer(cl)
	if err != nil {
		return rep, err
	}
	defer prod.Close()
	acked, err := publish(prod, letters[:len(dests)], dests)
	for _, i := range acked {
		rep.Replayed[dests[i]]++
	}
	return rep, errors.Join(err, stop)
}

func commonTopic(ls []Letter) string {
	if len(ls) == 0 {
		return ""
	}
	for _, l := range ls[1:] {
		if l.At.Topic != ls[0].At.Topic {
			return ""
		}
	}
	return ls[0].At.Topic
}

// publish produces the copies of ls to dests and returns the indexes
// acknowledged before the first failure of their dead-letter partition
// (what may be committed), and the first error. The produce runs under a
// background context so that a signal does not half-cancel a batch; the
// producer's delivery timeout ([Timeout]) bounds it.
func publish(prod *kgo.Client, ls []Letter, dests []string) ([]int, error) {
	out := make([]*kgo.Record, len(ls))
	for i, l := range ls {
		out[i] = Copy(l, dests[i])
	}
	results := prod.ProduceSync(context.Background(), out...)
	failed := map[int32]bool{}
	var acked []int
	var firstErr error
	for i, res := range results {
		p := ls[i].At.Partition
		if res.Err != nil || failed[p] {
			if res.Err != nil && firstErr == nil {
				firstErr = fmt.Errorf("publish dead letter at partition %d offset %d to %s: %w", p, ls[i].At.Offset, dests[i], res.Err)
			}
			failed[p] = true
			continue
		}
		acked = append(acked, i)
	}
	return acked, firstErr
}
