package partition

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RecordPool is a kgo.PoolRecords (kgo.WithPools) for a consumer whose
// partition actors recycle the records they finish (Config.Recycle): the
// client decodes each fetched batch into a slice of Records from the pool,
// and the slice goes back once every record of it kept was recycled.
// Records never recycled (dropped on a revoke, finished on a path that
// does not recycle) leave their slice to the garbage collector.
//
// It saves the client's largest allocation per fetch, the records
// themselves, and the collections it costs.
type RecordPool struct {
	classes [recordClasses]sync.Pool // of *[]kgo.Record, cap 1<<class
	gets    atomic.Int64
	puts    atomic.Int64
}

// Counts are how many slices the client took from the pool and how many
// came back (their records all recycled).
func (p *RecordPool) Counts() (gets, puts int64) { return p.gets.Load(), p.puts.Load() }

// recordClasses bounds the pooled slices at 1<<16 records; larger batches
// are allocated as without the pool.
const recordClasses = 17

// GetRecords implements kgo.PoolRecords: a slice of class c holds 1<<c
// records, the smallest power of two at least n (batch sizes vary, and
// a slice must serve the next batches of about its size).
func (p *RecordPool) GetRecords(n int) []kgo.Record {
	p.gets.Add(1)
	c := bits.Len(uint(max(n, 1) - 1)) // 1<<c >= n
	if c >= recordClasses {
		return make([]kgo.Record, 0, n)
	}
	if v, _ := p.classes[c].Get().(*[]kgo.Record); v != nil {
		return (*v)[:0]
	}
	return make([]kgo.Record, 0, 1<<c)
}

// PutRecords implements kgo.PoolRecords.
func (p *RecordPool) PutRecords(s []kgo.Record) {
	p.puts.Add(1)
	c := bits.Len(uint(max(cap(s), 1) - 1))
	if c >= recordClasses || cap(s) != 1<<c {
		return // not one of the pool's
	}
	p.classes[c].Put(&s)
}
