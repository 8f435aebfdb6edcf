package actors

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/topics"
)

// Headers of the records in a retry topic (RetryTopic): what each is, and
// where its source record came from.
const (
	// HeaderParkKind is head, follow, done or restage (partition.ParkKind).
	HeaderParkKind      = "actord.park.kind"
	HeaderParkTopic     = "actord.park.topic"
	HeaderParkPartition = "actord.park.partition"
	HeaderParkOffset    = "actord.park.offset"
	HeaderParkGroup     = "actord.park.group"
	// HeaderParkParkedAt is when a head's schedule starts, RFC 3339 with
	// nanoseconds.
	HeaderParkParkedAt = "actord.park.parked_at"
	HeaderParkError    = "actord.park.error"
)

// Limits of RetryTopic's schedule.
const (
	MaxRetrySchedule   = 20
	MaxRetryScheduleAt = 7 * 24 * time.Hour
)

// RetryTopic parks a record whose in-memory retries are spent instead of
// dead-lettering it: it is written to topic (created on demand with the
// consumed topic's partition count; a record of source partition p goes
// to its partition p) with every later record of its key while the key is
// parked, and the consumed partition's offset moves on, so the other keys
// flow. A parked key's records run in order: the first at each delay of
// schedule after it was parked (one attempt a delay), each later one at
// once when the one before it succeeded (and on the schedule, from then,
// if it fails). After the last delay the record is dead-lettered and its
// key goes on. The retry topic is the durable state: an owner of the
// partition (after a restart or a rebalance) reads it back before it
// handles anything. Key ordering only (Ordering(ByKey)); not with
// ConsumeWith. The topic's retention must be longer than the whole
// schedule.
func RetryTopic(topic string, schedule ...time.Duration) ConsumerOption {
	return consumerOpt(func(o *consumerOptions) {
		switch {
		case len(schedule) == 0:
			o.bad("actors.RetryTopic(%q): want a schedule of at least one delay", topic)
			return
		case len(schedule) > MaxRetrySchedule:
			o.bad("actors.RetryTopic(%q): %d delays, at most %d", topic, len(schedule), MaxRetrySchedule)
			return
		}
		for i, d := range schedule {
			if d <= 0 || d > MaxRetryScheduleAt {
				o.bad("actors.RetryTopic(%q): delay %d is %v, want above 0 and at most %v", topic, i+1, d, MaxRetryScheduleAt)
				return
			}
		}
		if err := topics.ValidateName(topic); err != nil {
			o.bad("actors.RetryTopic(%q): %v", topic, err)
			return
		}
		o.retryTopic, o.retrySchedule = topic, schedule
	})
}

// checkParking reports a RetryTopic that cannot serve the consumer of
// topic.
func (o *consumerOptions) checkParking(topic string) {
	if o.retryTopic == "" {
		return
	}
	switch {
	case o.ordering != ByKey:
		o.bad("actors.RetryTopic(%q): needs actors.Ordering(actors.ByKey), not %v (parking keeps each key's order)", o.retryTopic, o.ordering)
	case o.retryTopic == topic:
		o.bad("actors.RetryTopic(%q): is the consumed topic itself", o.retryTopic)
	case o.retryTopic == o.deadLetter:
		o.bad("actors.RetryTopic(%q): is the dead-letter topic too", o.retryTopic)
	}
}

// parking is a consumer's retry-topic writer and reader.
type parking struct {
	rt                   *Runtime
	topic, source, group string

	once sync.Once
	cl   *kgo.Client
	err  error
}

func (c *consumer) newParking() *parking {
	if c.opts.retryTopic == "" {
		return nil
	}
	return &parking{rt: c.rt, topic: c.opts.retryTopic, source: c.topic, group: c.group}
}

// client is the writer: records go to the partition they name (that of
// their source), acks=all, idempotent.
func (p *parking) client() (*kgo.Client, error) {
	p.once.Do(func() {
		p.cl, p.err = kgo.NewClient(append(p.rt.clientOpts("park-"+p.group),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(time.Millisecond))...)
	})
	return p.cl, p.err
}

func (p *parking) close() {
	if p != nil && p.cl != nil {
		p.cl.Close()
	}
}

// closeParking closes the consumers' retry-topic writers, once the groups
// have stopped.
func (rt *Runtime) closeParking() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, g := range rt.groups {
		for _, c := range g.consumers() {
			c.park.close()
		}
	}
}

// config is the partition actor's Park for source partition part.
func (p *parking) config(schedule []time.Duration, part int32) *partition.Park {
	return &partition.Park{
		Schedule: schedule,
		Write:    func(pr partition.ParkRecord, done func(error)) { go p.write(part, pr, done) },
		Load:     func(ctx context.Context) ([]partition.ParkRecord, error) { return p.load(ctx, part) },
	}
}

func (p *parking) write(part int32, pr partition.ParkRecord, done func(error)) {
	ctx, cancel := context.WithTimeout(context.Background(), p.rt.s.requestTimeout)
	fail := func(err error) {
		cancel()
		done(err)
	}
	if err := p.rt.ensureDeadLetterTopic(ctx, p.topic, p.source); err != nil {
		fail(err)
		return
	}
	cl, err := p.client()
	if err != nil {
		fail(err)
		return
	}
	r := &kgo.Record{Topic: p.topic, Partition: part, Key: pr.Key}
	if src := pr.Record; src != nil {
		r.Value, r.Timestamp = src.Value, src.Timestamp
		r.Headers = append(r.Headers, src.Headers...)
	}
	h := func(k, v string) { r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)}) }
	h(HeaderParkKind, pr.Kind.String())
	h(HeaderParkTopic, p.source)
	h(HeaderParkPartition, strconv.Itoa(int(part)))
	h(HeaderParkOffset, strconv.FormatInt(pr.Offset, 10))
	h(HeaderParkGroup, p.group)
	if !pr.ParkedAt.IsZero() {
		h(HeaderParkParkedAt, pr.ParkedAt.UTC().Format(time.RFC3339Nano))
	}
	if pr.Err != "" {
		h(HeaderParkError, pr.Err)
	}
	cl.Produce(ctx, r, func(_ *kgo.Record, err error) { fail(err) })
}

// load reads partition part of the retry topic from its start to its end
// and returns the records of this consumer (group and source topic), in
// order.
func (p *parking) load(ctx context.Context, part int32) ([]partition.ParkRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*p.rt.s.requestTimeout)
	defer cancel()
	if err := p.rt.ensureDeadLetterTopic(ctx, p.topic, p.source); err != nil {
		return nil, err
	}
	adm := kadm.NewClient(p.rt.prod)
	ends, err := adm.ListEndOffsets(ctx, p.topic)
	if err != nil {
		return nil, fmt.Errorf("retry topic %s: end offsets: %w", p.topic, err)
	}
	end, ok := ends.Lookup(p.topic, part)
	if !ok || end.Err != nil {
		return nil, fmt.Errorf("retry topic %s has no partition %d (it needs as many partitions as %s): %v", p.topic, part, p.source, end.Err)
	}
	if end.Offset == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(append(p.rt.clientOpts("park-load-"+p.group),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{p.topic: {part: kgo.NewOffset().AtStart()}}))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []partition.ParkRecord
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("retry topic %s/%d: read %d of %d: %w", p.topic, part, next, end.Offset, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return nil, fmt.Errorf("retry topic %s/%d: %w", p.topic, part, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if pr, ok := p.parse(r, part); ok {
				out = append(out, pr)
			}
		})
	}
	return out, nil
}

// parse reads one retry-topic record back; ok is false for a record of
// another consumer (or not a parking record).
func (p *parking) parse(r *kgo.Record, part int32) (partition.ParkRecord, bool) {
	var pr partition.ParkRecord
	var kind, topic, group string
	var own []kgo.RecordHeader
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderParkKind:
			kind = v
		case HeaderParkTopic:
			topic = v
		case HeaderParkGroup:
			group = v
		case HeaderParkOffset:
			pr.Offset, _ = strconv.ParseInt(v, 10, 64)
		case HeaderParkParkedAt:
			pr.ParkedAt, _ = time.Parse(time.RFC3339Nano, v)
		case HeaderParkError:
			pr.Err = v
		case HeaderParkPartition:
		default:
			if !strings.HasPrefix(h.Key, "actord.park.") {
				own = append(own, h)
			}
		}
	}
	if topic != p.source || group != p.group {
		return pr, false
	}
	switch kind {
	case "head":
		pr.Kind = partition.ParkHead
	case "follow":
		pr.Kind = partition.ParkFollow
	case "done":
		pr.Kind = partition.ParkDone
	case "restage":
		pr.Kind = partition.ParkRestage
	default:
		return pr, false
	}
	pr.Key = r.Key
	if pr.Kind == partition.ParkHead || pr.Kind == partition.ParkFollow {
		pr.Record = &kgo.Record{Topic: p.source, Partition: part, Offset: pr.Offset, Key: r.Key, Value: r.Value,
			Headers: own, Timestamp: r.Timestamp, LeaderEpoch: -1}
	}
	return pr, true
}
