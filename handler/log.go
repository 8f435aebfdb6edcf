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

// newLog opens c.File once, for appending, and keeps it open for the life
// of the process: the handler has no close, and reopening per record would
// cost a syscall pair per record.
func newLog(c config.LogHandler, stdout io.Writer) (Func, error) {
	h := &logHandler{lock: make(chan struct{}, 1), w: stdout, sink: "stdout", stderr: os.Stderr}
	if c.File != "" {
		f, err := os.OpenFile(c.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("handler: log file: %w", err)
		}
		h.w, h.file, h.sink = f, f, c.File
	}
	return h.handle, nil
}

func (h *logHandler) handle(ctx context.Context, m actors.Message[[]byte]) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	rec := recordJSON(m)
	if decodedJSON(ctx) {
		rec.Value = json.RawMessage(m.Raw) // a consumer's schema: the value as JSON
	}
	if err := enc.Encode(rec); err != nil { // Encode ends the line.
		return actors.Permanent(fmt.Errorf("log: encoding record: %w", err))
	}
	// One Write per line under the lock: lines of records handled in
	// parallel never interleave.
	select {
	case h.lock <- struct{}{}:
	case <-ctx.Done():
		return actors.Retry(fmt.Errorf("log: waiting to write to %s: %w", h.sink, context.Cause(ctx)))
	}
	defer func() { <-h.lock }()
	delay := logRetryMin
	for {
		err := h.writeLine(buf.Bytes())
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

// writeLine writes line with one Write. Should part of it be written, a
// regular file is truncated back to where it was.
func (h *logHandler) writeLine(line []byte) error {
	var size int64 = -1
	if h.file != nil {
		if st, err := h.file.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	n, err := h.w.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil || n == 0 {
		return err
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
