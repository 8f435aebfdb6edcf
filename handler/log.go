package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

const (
	// logRetryMin and logRetryMax bound the backoff between writes of a
	// line that the sink refused.
	logRetryMin = 10 * time.Millisecond
	logRetryMax = time.Second
)

// logHandler writes one JSON line per record.
//
// A write that fails is the sink's outage (a full disk, a closed stdout),
// not the record's fault: the handler writes the line again, with backoff,
// until it succeeds or the attempt's context ends, so that a record is
// never dead-lettered because the sink failed. While it waits the record
// stays uncommitted, and so does every record behind it. The outage is
// reported once on stderr, and once more when it ends. A line is always
// written whole or not at all: a short write to a regular file is
// truncated back; on a sink that cannot be truncated it is reported.
type logHandler struct {
	lock   chan struct{} // held while a line is written; a channel so that waiting for it ends with the context
	w      io.Writer
	file   *os.File // the log file, or nil for stdout
	sink   string
	stderr io.Writer

	mu   sync.Mutex
	down bool // an outage was reported and has not ended
}

// Batched is how the implicit batches of NewBatch are cut: whatever is
// waiting, up to actors.MaxBatchSize records, without waiting for more.
var Batched = actors.Batching{Max: actors.MaxBatchSize}

// Batch is a handler kind's batch form (NewBatch). Handle runs a batch to
// its end. Start, set for forward, begins one and returns its wait, so
// that a partition's next batch is produced while this one's
// acknowledgements are on their way (actors.ConsumeBatchAsync).
type Batch struct {
	Handle BatchFunc
	Start  func(context.Context, []actors.Message[[]byte]) (wait func() error)
}

// Declare declares the consumer of topic in group that runs b, cut as
// Batched: with actors.ConsumeBatchAsync when b has a Start, with
// actors.ConsumeBatch otherwise.
func (b Batch) Declare(rt *actors.Runtime, topic, group string, opts ...actors.ConsumerOption) error {
	if b.Start != nil {
		return actors.ConsumeBatchAsync(rt, topic, group, Batched, b.Start, opts...)
	}
	return actors.ConsumeBatch(rt, topic, group, Batched, b.Handle, opts...)
}

// NewBatch builds the batch form of h for a consumer in partition order
// (the default) that sets no batch of its own, for the kinds whose
// per-record cost is mostly a system call or a round trip that a batch
// shares: log to a regular file (one write(2) a batch instead of one a
// record) and forward (a batch's copies produced together, and
// acknowledged, before it is done; the next batch's copies are produced
// while they are on their way). ok is false for the other kinds, and for
// log to stdout or to a file that is not a regular one, which New builds.
// The guarantees are New's: a batch is done, and its offsets may be
// committed, only once all its lines are written (log) or all its copies
// acknowledged (forward). A failed write fails the log batch whole: it is
// retried, then bisected (see actors.ConsumeBatch); a forward batch fails
// only the records whose copies were refused (actors.FailRecords).
func NewBatch(h config.Handler, rt *actors.Runtime, stdout io.Writer) (b Batch, ok bool, err error) {
	if stdout == nil {
		stdout = os.Stdout
	}
	if len(h.Kinds()) != 1 {
		return Batch{}, false, nil
	}
	switch {
	case h.Log != nil:
		// Stdout, a pipe or a device stays a record a write: a batch
		// written in part to a sink that cannot be truncated back would
		// leave records written but not done, and a torn line.
		if h.Log.File == "" {
			return Batch{}, false, nil
		}
		if st, err := os.Stat(h.Log.File); err == nil && !st.Mode().IsRegular() {
			return Batch{}, false, nil
		}
		lh, err := openLog(*h.Log, stdout)
		if err != nil {
			return Batch{}, true, err
		}
		return Batch{Handle: lh.handleBatch}, true, nil
	case h.Forward != nil:
		fh, err := buildForward(*h.Forward, rt)
		if err != nil {
			return Batch{}, true, err
		}
		return Batch{Handle: fh.handleBatch, Start: fh.startBatch}, true, nil
	}
	return Batch{}, false, nil
}

// newLog opens c.File once, for appending, and keeps it open for the life
// of the process: the handler has no close, and reopening per record would
// cost a syscall pair per record.
func newLog(c config.LogHandler, stdout io.Writer) (Func, error) {
	h, err := openLog(c, stdout)
	if err != nil {
		return nil, err
	}
	return h.handle, nil
}

func openLog(c config.LogHandler, stdout io.Writer) (*logHandler, error) {
	h := &logHandler{lock: make(chan struct{}, 1), w: stdout, sink: "stdout", stderr: os.Stderr}
	if c.File != "" {
		f, err := os.OpenFile(c.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("handler: log file: %w", err)
		}
		h.w, h.file, h.sink = f, f, c.File
	}
	return h, nil
}

func (h *logHandler) handle(ctx context.Context, m actors.Message[[]byte]) error {
	bp := linePool.Get().(*[]byte)
	defer linePool.Put(bp)
	line, err := h.appendLine((*bp)[:0], ctx, &m)
	keepLine(bp, line)
	if err != nil {
		return err
	}
	return h.write(ctx, line)
}

// handleBatch writes the lines of a batch to the log file, a regular
// file, with one Write, so that a consumer in partition order costs a
// write(2) per batch instead of one per record. It returns, and the
// batch's records are done, only once all their lines are in the file:
// none waits in a buffer of this process. Should part of the batch be
// written, the file is truncated back, as for one line, and the batch is
// written again.
func (h *logHandler) handleBatch(ctx context.Context, ms []actors.Message[[]byte]) error {
	bp := linePool.Get().(*[]byte)
	defer linePool.Put(bp)
	buf := (*bp)[:0]
	for i := range ms {
		var err error
		if buf, err = h.appendLine(buf, ctx, &ms[i]); err != nil {
			keepLine(bp, buf)
			return actors.FailRecords(err, i)
		}
	}
	keepLine(bp, buf)
	return h.write(ctx, buf)
}

// linePool holds the buffers lines are encoded into; one that grew past
// maxPooledLine is let go instead of kept.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledLine = 1 << 20

// keepLine stores buf, grown from *bp, back in bp for the pool, unless it
// grew past maxPooledLine.
func keepLine(bp *[]byte, buf []byte) {
	if cap(buf) > maxPooledLine {
		buf = make([]byte, 0, 512)
	}
	*bp = buf[:0]
}

// appendLine appends m's line to dst: appendRecordLine's, or, for a
// consumer's schema (the value decoded to JSON), encoding/json's with the
// value as that JSON.
func (h *logHandler) appendLine(dst []byte, ctx context.Context, m *actors.Message[[]byte]) ([]byte, error) {
	if !decodedJSON(ctx) {
		return appendRecordLine(dst, m), nil
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	rec := recordJSON(*m)
	rec.Value = json.RawMessage(m.Raw)      // a consumer's schema: the value as JSON
	if err := enc.Encode(rec); err != nil { // Encode ends the line.
		return dst, actors.Permanent(fmt.Errorf("log: encoding record: %w", err))
	}
	return buf.Bytes(), nil
}

// write writes lines (whole lines, one or more) with one Write under the
// lock, so that lines of records handled in parallel never interleave,
// again with backoff while the sink refuses them.
func (h *logHandler) write(ctx context.Context, lines []byte) error {
	select {
	case h.lock <- struct{}{}:
	case <-ctx.Done():
		return actors.Retry(fmt.Errorf("log: waiting to write to %s: %w", h.sink, context.Cause(ctx)))
	}
	defer func() { <-h.lock }()
	delay := logRetryMin
	for {
		err := h.writeLine(lines)
		if err == nil {
			h.outage(nil)
			return nil
		}
		h.outage(err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			// Retry, not a plain failure: the attempt ended while the sink
			// was down; the record was not written and stays uncommitted.
			return actors.Retry(fmt.Errorf("log: writing to %s: %w (stopped: %v)", h.sink, err, context.Cause(ctx)))
		}
		delay = min(2*delay, logRetryMax)
	}
}

// writeLine writes line (one or more whole lines) with one Write. Should
// part of it be written, a regular file is truncated back to where it was:
// its size less the part (the file is the handler's, appended to under
// the lock).
func (h *logHandler) writeLine(line []byte) error {
	n, err := h.w.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil || n == 0 {
		return err
	}
	var size int64 = -1
	if h.file != nil {
		if st, serr := h.file.Stat(); serr == nil && st.Mode().IsRegular() && st.Size() >= int64(n) {
			size = st.Size() - int64(n)
		}
	}
	if size >= 0 {
		if terr := h.file.Truncate(size); terr == nil {
			return err
		} else {
			err = fmt.Errorf("%w; truncating the partial line (%d of %d bytes) back failed: %v", err, n, len(line), terr)
		}
	} else {
		err = fmt.Errorf("%w (a partial line of %d of %d bytes was written)", err, n, len(line))
	}
	// A partial line is reported each time, not only once per outage.
	fmt.Fprintf(h.stderr, "actord: log handler: %s: %v\n", h.sink, err)
	return err
}

// reporter is an error that has been reported to the user already (the
// binary's closed-stdout error).
type reporter interface{ Reported() bool }

// outage reports on stderr the first failed write of an outage (err) and
// the first write that succeeds after one (nil).
func (h *logHandler) outage(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil && h.down:
		h.down = false
		fmt.Fprintf(h.stderr, "actord: log handler: writing to %s works again\n", h.sink)
	case err != nil && !h.down:
		h.down = true
		var r reporter
		if errors.As(err, &r) && r.Reported() {
			return
		}
		fmt.Fprintf(h.stderr, "actord: log handler: writing to %s failed: %v; writing the line again until it succeeds (records stay uncommitted meanwhile)\n", h.sink, err)
	}
}
