package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

// logHandler writes one JSON line per record.
type logHandler struct {
	mu sync.Mutex
	w  io.Writer
}

// newLog opens c.File once, for appending, and keeps it open for the life
// of the process: the handler has no close, and reopening per record would
// cost a syscall pair per record.
func newLog(c config.LogHandler, stdout io.Writer) (Func, error) {
	w := stdout
	if c.File != "" {
		f, err := os.OpenFile(c.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("handler: log file: %w", err)
		}
		w = f
	}
	h := &logHandler{w: w}
	return h.handle, nil
}

func (h *logHandler) handle(_ context.Context, m actors.Message[[]byte]) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(recordJSON(m)); err != nil { // Encode ends the line.
		return actors.Permanent(fmt.Errorf("log: encoding record: %w", err))
	}
	// One Write per line under the lock: lines of records handled in
	// parallel never interleave.
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	return nil
}
