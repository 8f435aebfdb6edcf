package dlq

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Scan reads the dead-letter topic topic from its start offsets to its
// end offsets as they are when iteration starts, and yields each record as
// a [Letter] that passes the filters ([Source], [SourceOffset], [Where],
// [Limit]), per partition in offset order. A record that is not a dead
// letter is yielded too, with its [Letter.Err] set, unless a filter drops
// it.
//
// An error (a bad option, a consuming client, a topic that does not exist
// ([ErrUnknownTopic]), a partition that gives nothing within [Timeout],
// the context's end) is yielded once, with a zero Letter, and ends the
// iteration. Records dead-lettered meanwhile are left for the next call;
// an empty topic yields nothing.
//
// Scan reads without a consumer group and commits nothing. It lists
// offsets through cl and fetches with a direct consumer built from cl's
// options, closed when iteration ends: one more connection per broker for
// the duration, and records are held one fetch at a time.
func Scan(ctx context.Context, cl *kgo.Client, topic string, opts ...ReadOption) iter.Seq2[Letter, error] {
	return func(yield func(Letter, error) bool) {
		cfg, err := newReadConfig(opts)
		if err == nil {
			err = scan(ctx, cl, topic, cfg, nil, yield)
		}
		if err != nil {
			yield(Letter{}, err)
		}
	}
}

// Read is [Scan] collected: every letter, ordered by partition then
// offset. On an error it returns the letters read before it. The whole
// range is held in memory; use Scan (or [Limit]) for a large topic.
func Read(ctx context.Context, cl *kgo.Client, topic string, opts ...ReadOption) ([]Letter, error) {
	var out []Letter
	for l, err := range Scan(ctx, cl, topic, opts...) {
		if err != nil {
			sortLetters(out)
			return out, err
		}
		out = append(out, l)
	}
	sortLetters(out)
	return out, nil
}

func sortLetters(ls []Letter) {
	slices.SortStableFunc(ls, func(a, b Letter) int {
		return cmp.Or(cmp.Compare(a.At.Partition, b.At.Partition), cmp.Compare(a.At.Offset, b.At.Offset))
	})
}

// scan yields the letters of topic from from (per partition, at least
// the start offset; nil means the start offsets) to the end offsets. It
// returns the error to yield, or nil when done or when yield said stop.
func scan(ctx context.Context, cl *kgo.Client, topic string, cfg readConfig, from map[int32]int64, yield func(Letter, error) bool) error {
	if err := checkPlain(cl); err != nil {
		return err
	}
	start, end, err := bounds(ctx, cl, topic, cfg.timeout)
	if err != nil {
		return err
	}
	if end, err = only(topic, end, cfg.partitions); err != nil {
		return err
	}
	next := maps.Clone(start)
	for p, o := range from {
		next[p] = max(next[p], o)
	}
	offsets := map[int32]kgo.Offset{}
	for p, e := range end {
		if next[p] < e {
			offsets[p] = kgo.NewOffset().At(next[p])
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	rcl, err := derive(cl, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return fmt.Errorf("dlq: reader for %s: %w", topic, err)
	}
	defer rcl.Close()
	rd := newReader(rcl, topic, next, end, cfg.timeout)
	n := 0
	for {
		recs, err := rd.poll(ctx)
		if err != nil || recs == nil {
			return err
		}
		for _, r := range recs {
			l, perr := Parse(r)
			l.Err = perr
			if !cfg.keep(l) {
				continue
			}
			if !yield(l, nil) {
				return nil
			}
			if n++; cfg.limit > 0 && n >= cfg.limit {
				return nil
			}
		}
	}
}

// only restricts end to the partitions ps (all when ps is empty).
func only(topic string, end map[int32]int64, ps []int32) (map[int32]int64, error) {
	if len(ps) == 0 {
		return end, nil
	}
	out := make(map[int32]int64, len(ps))
	for _, p := range ps {
		e, ok := end[p]
		if !ok {
			return nil, fmt.Errorf("dlq.Partitions: %s has no partition %d (it has %d): %w", topic, p, len(end), ErrInvalidOption)
		}
		out[p] = e
	}
	return out, nil
}
