package console

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/topics"
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
		found := topics.FirstTimestamps(ctx, cl, want, lagReadTimeout)
		for pk, t := range lt {
			ts, ok := found[pk.topic][pk.partition]
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
