package actors_test

import (
	"context"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

func TestReadDeadLettersThroughTheRuntimeClient(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b)
	actortest.Produce(t, b, "x.dlq", actortest.Value("v"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 3 {
		ls, err := actors.ReadDeadLetters(ctx, rt, "x.dlq")
		if err != nil || len(ls) != 1 || ls[0].Err == nil {
			t.Fatalf("ReadDeadLetters = %v, %v; want one non-dead-letter record", ls, err)
		}
	}
}
