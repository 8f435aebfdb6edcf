package partition_test

import (
	"testing"

	"github.com/actord/actord/bench"
)

// BenchmarkDispatch measures the partition actor alone in each mode: one op
// is one record delivered in batches of bench.DispatchBatch (waiting while
// the partition is full, as the poll loop does), run by a no-op handler
// and marked. It runs bench's own dispatch benchmark, kept runnable beside
// the code so that a change to the actor is measured where it is made.
func BenchmarkDispatch(b *testing.B) {
	for _, s := range bench.DispatchSides() {
		b.Run(s.Name, bench.DispatchBenchmark(s))
	}
}
