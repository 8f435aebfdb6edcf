package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

// BatchFunc handles a batch of records (actors.ConsumeBatch).
type BatchFunc = func(ctx context.Context, ms []actors.Message[[]byte]) error

// NewHTTPBatch is the http handler kind with `batch: {max, wait}`: each
// batch is POSTed as one JSON array of records (the log kind's Record
// shape), Content-Type application/json, with X-Actord-Topic,
// X-Actord-Partition, X-Actord-First-Offset, X-Actord-Count and
// X-Actord-Attempt headers. A 2xx answer handles the batch, unless its
// body is {"failed": [indexes], "error": "..."}: then those records of the
// batch fail alone (retried, then dead-lettered with the error) and the
// others are done. 503 and 429 (with their Retry-After) and a refused
// connection are the downstream's (the circuit opens); other 5xx and
// timeouts are retried; another 4xx fails the batch permanently, which
// splits it until the records that fail alone are found and
// dead-lettered.
func NewHTTPBatch(c config.HTTPHandler) (BatchFunc, actors.Batching, error) {
	if c.Batch == nil {
		return nil, actors.Batching{}, errors.New("handler: http has no batch")
	}
	h, err := buildHTTP(c)
	if err != nil {
		return nil, actors.Batching{}, err
	}
	return h.handleBatch, actors.Batching{Max: c.Batch.Max, Wait: c.Batch.Wait}, nil
}

// batchAnswer is the optional body of a 2xx answer to a batch.
type batchAnswer struct {
	Failed []int  `json:"failed"`
	Error  string `json:"error"`
}

func (h *httpHandler) handleBatch(ctx context.Context, ms []actors.Message[[]byte]) error {
	recs := make([]Record, len(ms))
	for i, m := range ms {
		recs[i] = recordJSON(m)
	}
	body, err := json.Marshal(recs)
	if err != nil {
		return actors.Permanent(fmt.Errorf("http %s: encoding the batch: %w", h.url, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return actors.Permanent(fmt.Errorf("http %s: %w", h.url, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Actord-Topic", ms[0].Topic)
	req.Header.Set("X-Actord-Partition", itoa(ms[0].Partition))
	req.Header.Set("X-Actord-First-Offset", itoa(ms[0].Offset))
	req.Header.Set("X-Actord-Count", itoa(len(ms)))
	req.Header.Set("X-Actord-Attempt", itoa(max(ms[0].Attempt, 1)))
	answer, err := h.send(ctx, req, 1<<20)
	if err != nil {
		return err
	}
	return h.batchFailures(answer, len(ms))
}

// batchFailures reads a 2xx answer's {"failed": [...]}: nil when the body
// names none; an index outside the batch fails the whole batch, naming it.
func (h *httpHandler) batchFailures(body []byte, n int) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var a batchAnswer
	if err := json.Unmarshal(body, &a); err != nil || len(a.Failed) == 0 {
		return nil
	}
	for _, i := range a.Failed {
		if i < 0 || i >= n {
			return actors.Retry(fmt.Errorf("http %s: the answer fails record %d of a batch of %d", h.url, i, n))
		}
	}
	reason := strings.TrimSpace(a.Error)
	if reason == "" {
		reason = "failed by the endpoint"
	}
	return actors.FailRecords(fmt.Errorf("http %s: %s", h.url, reason), a.Failed...)
}
