package config

import (
	"time"

	"github.com/actord/actord/actors"
)

// MaxBatchWait is the longest handler.http.batch.wait.
const MaxBatchWait = time.Minute

// checkBatch checks consumers[].handler.http.batch and
// consumers[].handler.exec.batch: max between 1 and
// actors.MaxBatchSize, wait between 0 and MaxBatchWait, and partition
// ordering (a batch is a run of one partition's records, in order); a
// schema beside it would be ignored.
func (cs Consumer) checkBatch(ck *checker, key string) {
	var b *Batch
	var k string
	switch h := cs.Handler; {
	case h.HTTP != nil && h.HTTP.Batch != nil:
		b, k = h.HTTP.Batch, key+".handler.http.batch"
	case h.Exec != nil && h.Exec.Batch != nil:
		b, k = h.Exec.Batch, key+".handler.exec.batch"
		if h.Exec.Stream() {
			ck.add(k, "not with mode stream: a stream child gets one record a line already")
		}
	default:
		return
	}
	if b.Max < 1 || b.Max > actors.MaxBatchSize {
		ck.add(k+".max", "must be between 1 and %d, got %d", actors.MaxBatchSize, b.Max)
	}
	if b.Wait < 0 || b.Wait > MaxBatchWait {
		ck.add(k+".wait", "must be between 0 and %s, got %s", MaxBatchWait, b.Wait)
	}
	if cs.Ordering != "" && cs.Ordering != OrderingPartition {
		ck.add(k, "needs ordering: partition (a batch is a run of one partition's records, in order), not %q", cs.Ordering)
	}
	if cs.Schema != nil {
		ck.add(k, "not with schema: a batch is sent as the records are (their values as JSON strings or base64)")
	}
}
