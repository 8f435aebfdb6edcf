package handler

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/topics"
)

// forwardHandler produces each record to another topic.
type forwardHandler struct {
	topic  string
	client *kgo.Client
}

func newForward(c config.ForwardHandler, rt *actors.Runtime) (Func, error) {
	if c.Topic == "" {
		return nil, errors.New("handler: forward needs a topic: forward: {topic: NAME}")
	}
	if err := topics.ValidateName(c.Topic); err != nil {
		return nil, fmt.Errorf("handler: forward: %w", err)
	}
	if rt == nil {
		return nil, errors.New("handler: forward needs a runtime to produce with")
	}
	h := &forwardHandler{topic: c.Topic, client: rt.Client()}
	return h.handle, nil
}

// handle returns once the record is acknowledged, so that the source
// offset is committed only after the copy is durable.
func (h *forwardHandler) handle(ctx context.Context, m actors.Message[[]byte]) error {
	r := &kgo.Record{
		Topic:   h.topic,
		Key:     m.Key,
		Value:   m.Raw,
		Headers: append([]kgo.RecordHeader(nil), m.Headers...),
	}
	if err := h.client.ProduceSync(ctx, r).FirstErr(); err != nil {
		return actors.Retry(fmt.Errorf("forward to %s: %w", h.topic, err))
	}
	return nil
}
