package dlq

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReplayTopic replays the dead-letter topic topic resumably, as `actord
// dlq replay` does: it reads the topic with a consumer group ([Group],
// default [DefaultGroupPrefix] + topic) from the group's committed
// offsets up to the end offsets as they are at the call, and batch by
// batch produces the copies ([Copy]) to their original topics (or [To])
// with acks=all, waits for every acknowledgement, then commits the dead
// letters acknowledged (per partition, up to the first failure).
//
// So an interrupted or failed replay resumes at the first dead letter it
// did not finish, and what it finished is not produced twice, except a
// batch acknowledged but not committed (replay is at least once). A
// letter without a destination stops the replay ([DestinationError]); the
// ones before it stay committed. Only one replay per group makes progress:
// one that is assigned no partition within [Timeout] fails naming the
// group. With [DryRun] nothing is joined, produced or committed: the
// report counts what would be replayed from the group's offsets.
//
// The report counts what was committed, also when an error is returned.
// The call creates a group consumer and a producer from cl's options and
// closes them before it returns; nothing is committed on leaving the
// group beyond what was acknowledged.
func ReplayTopic(ctx context.Context, cl *kgo.Client, topic string, opts ...TopicReplayOption) (ReplayReport, error) {
	cfg, err := newTopicReplayConfig(topic, opts)
	rep := ReplayReport{From: topic, To: cfg.to, DryRun: cfg.dryRun, Replayed: map[string]int64{}}
	if err != nil {
		return rep, err
	}
	if err := checkPlain(cl); err != nil {
		return rep, err
	}
	start, end, err := bounds(ctx, cl, topic, cfg.timeout)
	if err != nil {
		return rep, err
	}
	next, err := groupPositions(ctx, cl, topic, cfg.group, start, end, cfg.timeout)
	if err != nil || reachedEnd(next, end) {
		return rep, err
	}
	if cfg.dryRun {
		rep.Started = true
		return rep, cfg.dryReplay(ctx, cl, topic, next, &rep)
	}
	prod, err := cfg.producer(cl)
	if err != nil {
		return rep, err
	}
	defer prod.Close()
	var assigned atomic.Bool
	gcl, err := derive(cl,
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, added map[string][]int32) {
			if len(added[topic]) > 0 {
				assigned.Store(true)
			}
		}),
		kgo.ConsumerGroup(cfg.group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return rep, fmt.Errorf("dlq: replay consumer: %w", err)
	}
	// Leaving the group commits nothing: every commit was made after its
	// batch was acknowledged.
	defer gcl.Close()
	rd := newReader(gcl, topic, next, end, cfg.timeout)
	rd.group, rd.assigned = cfg.group, &assigned
	rep.Started = true
	return rep, cfg.run(ctx, rd, prod, gcl, &rep)
}

// groupPositions is where group will start reading each partition of
// topic: its committed offset, or the partition's start offset where it
// has none (or where retention removed the committed one).
func groupPositions(ctx context.Context, cl *kgo.Client, topic, group string, start, end map[int32]int64, timeout time.Duration) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	committed, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		committed = nil // a first replay: some clusters say so, others answer with no offsets
	case err != nil:
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	next := maps.Clone(start)
	for p := range end {
		if o, ok := committed.Lookup(topic, p); ok && o.At > next[p] {
			next[p] = o.At
		}
	}
	return next, nil
}

// run replays batch by batch: publish, wait for every acknowledgement,
// commit what was acknowledged, then poll again.
func (c *topicReplayConfig) run(ctx context.Context, rd *reader, prod, group *kgo.Client, rep *ReplayReport) error {
	for {
		recs, err := rd.poll(ctx)
		if err != nil || recs == nil {
			return err
		}
		ls := letters(recs)
		dests, stop := c.destinations(ls)
		if err := c.commitPublished(prod, group, ls[:len(dests)], dests, rep); err != nil {
			return err
		}
		if stop != nil {
			return stop
		}
	}
}

// commitPublished publishes ls and commits, then counts, those
// acknowledged before their partition's first failure.
func (c *topicReplayConfig) commitPublished(prod, group *kgo.Client, ls []Letter, dests []string, rep *ReplayReport) error {
	if len(ls) == 0 {
		return nil
	}
	acked, pubErr := publish(prod, ls, dests)
	if len(acked) > 0 {
		commit := make([]*kgo.Record, len(acked))
		for i, j := range acked {
			commit[i] = ls[j].Record
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		if err := group.CommitRecords(ctx, commit...); err != nil {
			return errors.Join(pubErr, fmt.Errorf("commit replay progress: %w (the last batch may be published again by the next run)", err))
		}
	}
	for _, j := range acked {
		rep.Replayed[dests[j]]++
	}
	return pubErr
}

// dryReplay counts the destinations of the letters from next to the end
// offsets, reading without the group.
func (c *topicReplayConfig) dryReplay(ctx context.Context, cl *kgo.Client, topic string, next map[int32]int64, rep *ReplayReport) error {
	rc := readConfig{timeout: c.timeout}
	var stop error
	err := scan(ctx, cl, topic, rc, next, func(l Letter, _ error) bool {
		d, err := c.destination(l)
		if err != nil {
			stop = err
			return false
		}
		rep.Replayed[d]++
		return true
	})
	return errors.Join(err, stop)
}

// letters parses recs, keeping each parse error in its Letter.
func letters(recs []*kgo.Record) []Letter {
	out := make([]Letter, len(recs))
	for i, r := range recs {
		l, err := Parse(r)
		l.Err = err
		out[i] = l
	}
	return out
}
