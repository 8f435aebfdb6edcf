package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

// NewExecBatch is the exec handler kind with `batch: {max, wait}`: the
// command runs once per batch of records, which it reads on stdin as JSON
// lines (one record a line, the log kind's Record shape), with
// ACTORD_TOPIC, ACTORD_PARTITION, ACTORD_FIRST_OFFSET, ACTORD_COUNT and
// ACTORD_ATTEMPT in its environment (and the trace context). Its exit
// code is the batch's outcome as per-record exec reads it: 0 done, 75
// retry, 69 the downstream unavailable (the circuit opens), anything else
// a failure, retried and then bisected down to the records that fail
// alone, which are dead-lettered.
func NewExecBatch(c config.ExecHandler, stdout io.Writer) (BatchFunc, actors.Batching, error) {
	if c.Batch == nil {
		return nil, actors.Batching{}, errors.New("handler: exec has no batch")
	}
	if c.Stream() {
		return nil, actors.Batching{}, errors.New("handler: exec batch is not for mode stream")
	}
	h, err := buildExec(c.Command, stdout)
	if err != nil {
		return nil, actors.Batching{}, err
	}
	return h.handleBatch, actors.Batching{Max: c.Batch.Max, Wait: c.Batch.Wait}, nil
}

func (h *execHandler) handleBatch(ctx context.Context, ms []actors.Message[[]byte]) error {
	var lines []byte
	for _, m := range ms {
		b, err := json.Marshal(recordJSON(m))
		if err != nil {
			return actors.Permanent(fmt.Errorf("exec %s: encoding the batch: %w", h.argv[0], err))
		}
		lines = append(append(lines, b...), '\n')
	}
	return h.run(ctx, lines,
		"ACTORD_TOPIC="+ms[0].Topic,
		"ACTORD_PARTITION="+itoa(ms[0].Partition),
		"ACTORD_FIRST_OFFSET="+itoa(ms[0].Offset),
		"ACTORD_COUNT="+itoa(len(ms)),
		"ACTORD_ATTEMPT="+itoa(max(ms[0].Attempt, 1)),
	)
}
