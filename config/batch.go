package config

import (
	"time"

	"github.com/actord/actord/actors"
)

// MaxBatchWait is the longest handler.http.batch.wait.
const MaxBatchWait = time.Minute

// checkBatch checks consumers[].handler.http.batch: max between 1 and
// actors.MaxBatchSize, wait between 0 and MaxBatchWait, and partition
// ordering (a batch is a run of one partition's records, in order); a
// schema beside it would be ignored.
func (cs Consumer) checkBatch(ck *checker, key string) {
	if cs.Handler.HTTP == nil || cs.Handler.HTTP.Batch == nil {
		return
	}
	b, k := cs.Handler.HTTP.Batch, key+".handler.http.batch"
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
