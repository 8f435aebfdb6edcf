package actors

import (
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
)

// A transaction ends with a marker, a control record at the offset after
// its last record. franz-go hides it from the consumer, and a consumer
// that marks what it handled (record offset + 1) commits the marker's own
// offset: on a topic written in transactions (an exactly-once producer's
// output) a partition whose last records are done keeps a lag of 1, in
// `groups describe` and in the lag metrics, until the next record comes
// (the Java consumer commits its position, past the marker, and shows 0).
// So the group client keeps control records: the poll loop takes them
// out of what it delivers and remembers the marker that ends a fetch; a
// mark that reaches that marker's offset passes it.

// control is a partition's marker at the end of what was fetched: offset
// -1 when the last record fetched was data.
type control struct {
	offset atomic.Int64
	epoch  atomic.Int32
}

// newControl is a fresh control for partition k's new partition actor: a
// marker remembered for an earlier owner of k (or an earlier topic of its
// name, since recreated) must not move this one's marks.
func (g *group) newControl(k tp) *control {
	c := &control{}
	c.offset.Store(-1)
	g.mu.Lock()
	g.controls[k] = c
	g.mu.Unlock()
	return c
}

// dropControl returns recs without their control records (under g.mu).
// When the last record is one, a partition whose records before it are
// all done is marked past it at once; one that still has records running
// is marked past it by its own mark of the marker's offset (spawn).
func (g *group) dropControl(k tp, h *partition.Handle, recs []*kgo.Record) []*kgo.Record {
	last := recs[len(recs)-1]
	ctl := g.controls[k]
	if !last.Attrs.IsControl() {
		if ctl != nil && ctl.offset.Load() >= 0 {
			ctl.offset.Store(-1)
		}
		if !anyControl(recs) {
			return recs
		}
	}
	data := make([]*kgo.Record, 0, len(recs))
	for _, r := range recs {
		if !r.Attrs.IsControl() {
			data = append(data, r)
		}
	}
	if !last.Attrs.IsControl() || ctl == nil || g.eos.transform(k.topic) != nil {
		// An exactly-once partition commits its offsets in its
		// transactions, not by marks.
		return data
	}
	ctl.epoch.Store(last.LeaderEpoch)
	ctl.offset.Store(last.Offset)
	// Nothing delivered yet (resume -1): the fetch began at the group's
	// offset, so only markers (and aborted records) lie before this one.
	if resume := h.ResumeOffset(); len(data) == 0 && h.InFlight() == 0 && (resume == last.Offset || resume == -1) {
		g.cl.MarkCommitOffsets(map[string]map[int32]kgo.EpochOffset{k.topic: {k.partition: {Epoch: last.LeaderEpoch, Offset: last.Offset + 1}}})
	}
	return data
}

func anyControl(recs []*kgo.Record) bool {
	for _, r := range recs {
		if r.Attrs.IsControl() {
			return true
		}
	}
	return false
}
