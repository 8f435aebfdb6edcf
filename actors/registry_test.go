package actors_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/schema"
)

// flakyRegistry is a schema registry that cannot be reached for its first
// down lookups by id, as a registry behind a failing network is.
type flakyRegistry struct {
	*schema.MemoryRegistry
	down    atomic.Int32
	lookups atomic.Int32
}

func (r *flakyRegistry) ByID(ctx context.Context, id int) (*schema.Schema, error) {
	r.lookups.Add(1)
	if r.down.Add(-1) >= 0 {
		return nil, &schema.RegistryError{Op: fmt.Sprintf("lookup id %d", id), Err: errors.New("dial tcp: connection refused")}
	}
	return r.MemoryRegistry.ByID(ctx, id)
}

// recordsIn is how many records topic holds, 0 when it does not exist.
func recordsIn(t *testing.T, c actortest.Cluster, topic string) int64 {
	t.Helper()
	listed, err := kadm.NewClient(actortest.Client(t, c)).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !listed.Has(topic) {
		return 0
	}
	var n int64
	for _, end := range actortest.EndOffsets(t, c, topic) {
		n += end
	}
	return n
}

// A decode that fails because the schema registry cannot be reached is
// retried, not dead-lettered: the record is handled once the registry
// answers, and the dead-letter topic stays empty. Malformed Avro, whether
// its header or its body, is dead-lettered at once (one attempt).
func TestRegistryDownIsRetriedMalformedIsDeadLettered(t *testing.T) {
	t.Parallel()
	const down = 2
	reg := &flakyRegistry{MemoryRegistry: schema.NewMemoryRegistry()}
	reg.down.Store(down)
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	actortest.CreateTopic(t, b, "raw", 1)
	rt := actortest.Runtime(t, b, actors.WithSchemaRegistry(reg))
	s := mustSchema[orderV1](t)
	var mu sync.Mutex
	var handled []actors.Message[orderV1]
	handle := func(_ context.Context, m actors.Message[orderV1]) error {
		mu.Lock()
		handled = append(handled, m)
		mu.Unlock()
		return nil
	}
	for _, topic := range []string{"orders", "raw"} {
		if err := actors.Consume(rt, topic, "processor", handle, actors.WithSchema(s), actors.MaxRetries(down+2), fastRetries()); err != nil {
			t.Fatal(err)
		}
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[orderV1](rt, "orders", actors.WithSchema(s))
	if err != nil {
		t.Fatal(err)
	}
	want := orderV1{OrderID: 1, UserID: 2, Total: 3.5}
	if _, err := p.Publish(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	actortest.Eventually(t, 10*time.Second, "orders committed to the end", func() bool {
		return actortest.CommittedToEnd(t, b, "processor", "orders")
	})
	mu.Lock()
	// The decoder waits for the registry within the attempt, so the
	// failed lookups cost no attempt of the consumer's retry policy.
	if len(handled) != 1 || handled[0].Value != want || handled[0].Attempt != 1 {
		t.Fatalf("handled %+v, want %+v once, on attempt 1 (after %d registry failures waited out)", handled, want, down)
	}
	mu.Unlock()
	if n := reg.lookups.Load(); n != down+1 {
		t.Errorf("%d registry lookups, want %d (each failed lookup asked again)", n, down+1)
	}
	if n := recordsIn(t, b, "orders.dlq"); n != 0 {
		t.Fatalf("orders.dlq holds %d records: a registry that could not be reached was dead-lettered", n)
	}

	// Malformed: a Confluent frame naming the registered schema with its
	// body cut short, then bytes with no Avro header at all.
	good := actortest.ReadTopic(t, b, "orders", 1)[0].Value
	truncated := append([]byte(nil), good[:len(good)-1]...)
	actortest.Produce(t, b, "raw", actortest.Value(string(truncated)), actortest.Value("\x07not avro"))
	letters := actortest.WaitDeadLetters(t, b, "raw.dlq", 2)
	actortest.WaitCommittedToEnd(t, b, "processor", "raw")
	for i, l := range letters {
		if l.Offset != int64(i) || l.Attempts != 1 || !strings.Contains(l.Error, "malformed avro data") {
			t.Errorf("dead letter %d: offset %d, %d attempts, error %q; want offset %d, 1 attempt, malformed avro data",
				i, l.Offset, l.Attempts, l.Error, i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 1 {
		t.Fatalf("a malformed record reached the handler: %+v", handled[1:])
	}
}
