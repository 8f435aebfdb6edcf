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

// TransformFunc is the shape of a built-in exactly-once handler: what
// actors.Transform[[]byte] takes. It returns the records to write in the
// consumer's transaction.
type TransformFunc = func(context.Context, actors.Message[[]byte]) ([]*kgo.Record, error)

// NewTransform builds the exactly-once form of h (consumers[].exactly_once
// true): only forward has one, since the other kinds act outside Kafka.
// The forward transform returns the record's copy (key, value, headers)
// for the consumer's transaction to write to the forward topic, instead
// of producing it itself.
func NewTransform(h config.Handler) (TransformFunc, error) {
	if h.Forward == nil {
		return nil, errors.New("handler: exactly_once needs a forward handler: exec, http and log act outside Kafka")
	}
	topic := h.Forward.Topic
	if topic == "" {
		return nil, errors.New("handler: forward needs a topic: forward: {topic: NAME}")
	}
	if err := topics.ValidateName(topic); err != nil {
		return nil, fmt.Errorf("handler: forward: %w", err)
	}
	return func(_ context.Context, m actors.Message[[]byte]) ([]*kgo.Record, error) {
		return []*kgo.Record{{
			Topic:   topic,
			Key:     m.Key,
			Value:   m.Raw,
			Headers: append([]kgo.RecordHeader(nil), m.Headers...),
		}}, nil
	}, nil
}
