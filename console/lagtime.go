package console

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lagReadTimeout bounds one read of the oldest uncommitted records.
const lagReadTimeout = 2 * time.Second

// lagTimes remembers, per partition, the timestamp of the record at its
// committed offset: the oldest record not yet committed, whose age is the
// lag in time. A timestamp is read once per committed offset, so a
// partition whose offset does not move costs nothing after the first
// read.
type lagTimes map[partKey]lagTime

type lagTime struct {
	offset int64
	ts     time.Time
}

// update reads the timestamps of the partitions of st that have lag and
// whose committed offset moved since the last read, forgets partitions
// no longer owned, and returns the timestamps it knows. A partition whose
// read gives nothing in time keeps an unknown (zero) timestamp and is
// read again next time.
func (lt lagTimes) update(ctx context.Context, cl *kgo.Client, st Status) map[partKey]time.Time {
	want := map[string]map[int32]kgo.Offset{}
	at := map[string]map[int32]int64{}
	keep := map[partKey]bool{}
	for _, g := range st.Groups {
		for _, cs := range g.Consumers {
			for _, p := range cs.Partitions {
				pk := partKey{cs.Group, cs.Topic, p.Partition}
				if p.Lag <= 0 {
					continue
				}
				keep[pk] = true
				if t, ok := lt[pk]; ok && t.offset == p.Committed && !t.ts.IsZero() {
					continue
				}
				lt[pk] = lagTime{offset: p.Committed}
				if want[cs.Topic] == nil {
					want[cs.Topic] = map[int32]kgo.Offset{}
					at[cs.Topic] = map[int32]int64{}
				}
				if _, dup := at[cs.Topic][p.Partition]; dup {
					// Another group's offset of the same partition is
					// read this time; this one next time.
					continue
				}
				// Without a commit the oldest record not committed is
				// the partition's first.
				at0 := kgo.NewOffset().At(p.Committed)
				if p.Committed < 0 {
					at0 = kgo.NewOffset().AtStart()
				}
				want[cs.Topic][p.Partition] = at0
				at[cs.Topic][p.Partition] = p.Committed
			}
		}
	}
	for pk := range lt {
		if !keep[pk] {
			delete(lt, pk)
		}
	}
	if len(want) > 0 && cl != nil {
		found := readFirst(ctx, cl, want)
		for pk, t := range lt {
			ts, ok := found[[2]any{pk.topic, pk.partition}]
			if read, asked := at[pk.topic][pk.partition]; ok && asked && read == t.offset && t.ts.IsZero() {
				lt[pk] = lagTime{offset: t.offset, ts: ts}
			}
		}
	}
	out := make(map[partKey]time.Time, len(lt))
	for pk, t := range lt {
		out[pk] = t.ts
	}
	return out
}

// readFirst reads the first record at or after each offset of want with a
// direct consumer built from cl's options (no group, nothing committed),
// for at most lagReadTimeout, and returns the records' timestamps by
// topic and partition.
func readFirst(ctx context.Context, cl *kgo.Client, want map[string]map[int32]kgo.Offset) map[[2]any]time.Time {
	ctx, cancel := context.WithTimeout(ctx, lagReadTimeout)
	defer cancel()
	rcl, err := kgo.NewClient(append(slices.Clip(cl.Opts()),
		kgo.ConsumePartitions(want),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.FetchMaxPartitionBytes(64<<10),
	)...)
	if err != nil {
		return nil
	}
	defer rcl.Close()
	need := 0
	for _, ps := range want {
		need += len(ps)
	}
	out := map[[2]any]time.Time{}
	for len(out) < need && ctx.Err() == nil {
		fs := rcl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			k := [2]any{r.Topic, r.Partition}
			if _, ok := out[k]; !ok {
				out[k] = r.Timestamp
			}
		})
	}
	return out
}
