// want: builds

// The options of the misplaced files, each where it applies.
package misplaced

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/schema"
)

type order struct {
	ID     int    `avro:"id"`
	UserID string `avro:"user_id"`
}

func everyOptionInItsPlace(rt *actors.Runtime, s *schema.Schema, props *actor.Props) error {
	handle := func(context.Context, actors.Message[order]) error { return nil }
	if err := actors.Consume(rt, "orders", "processor", handle,
		actors.HandlerTimeout(time.Second), actors.Ordering(actors.ByKey), actors.Concurrency(8),
		actors.FromLatest(), actors.MaxInFlight(100), actors.MaxRetries(5), actors.Backoff(time.Millisecond, time.Second),
		actors.DeadLetterTopic("orders.failed"), actors.WithSchema(s)); err != nil {
		return err
	}
	if err := actors.ConsumeWith(rt, "orders", "audit", props,
		actors.WithSchema(s), actors.Concurrency(2), actors.NoDeadLetter()); err != nil {
		return err
	}
	if err := actors.ConsumeWith(rt, "payments", "audit", props, actors.WithDecoder(actors.JSON{})); err != nil {
		return err
	}
	if err := actors.On(rt, "order.placed", handle,
		actors.MaxRetries(1), actors.RetryPolicy(actors.DefaultRetryPolicy()), actors.DeadLetterTopic("events.failed"),
		actors.WithDecoder(actors.JSON{})); err != nil {
		return err
	}
	p, err := actors.NewProducer[order](rt, "orders", actors.Key("k"), actors.Header("source", "web"), actors.WithSchema(s))
	if err != nil {
		return err
	}
	if _, err := p.Publish(context.Background(), order{ID: 1}, actors.Key("user-1"), actors.Header("trace", "t-1")); err != nil {
		return err
	}
	keyed, err := actors.NewKeyedProducer(rt, "orders", func(o order) string { return o.UserID }, actors.WithEncoder(actors.JSON{}))
	if err != nil {
		return err
	}
	if _, err := actors.NewKeyedProducer[order](rt, "orders", func(o order) string { return o.UserID }); err != nil {
		return err
	}
	_, err = actors.Emit(context.Background(), rt, "order.placed", order{ID: 2}, actors.Key("user-1"))
	_ = keyed
	return err
}
