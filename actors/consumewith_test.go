package actors_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/schema"
)

// deliveries is what a service's handler actor saw: each delivery's
// offset, attempt and decoded value.
type deliveries struct {
	mu   sync.Mutex
	seen []delivered
}

type delivered struct {
	offset  int64
	attempt int
	value   any
}

func (d *deliveries) props() *actor.Props {
	return actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*actors.Delivery); ok {
			d.mu.Lock()
			d.seen = append(d.seen, delivered{m.Record.Offset, m.Attempt, m.Value})
			d.mu.Unlock()
			m.Done(nil)
		}
	})
}

func (d *deliveries) all() []delivered {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]delivered(nil), d.seen...)
}

// checkPoisonDeadLettered waits for group to commit topic to its end and
// checks that the record at offset poison went to topic.dlq on its first
// attempt as undecodable, and that the actor got exactly want (by offset,
// each on its first attempt), never the poison record.
func checkPoisonDeadLettered(t *testing.T, b actortest.Cluster, topic, group string, poison int64, got *deliveries, want map[int64]any) {
	t.Helper()
	letters := actortest.WaitDeadLetters(t, b, topic+".dlq", 1)
	actortest.WaitCommittedToEnd(t, b, group, topic)
	l := letters[0]
	if l.Topic != topic || l.Offset != poison || l.Attempts != 1 || l.Group != group || !strings.Contains(l.Error, "cannot decode") {
		t.Errorf("dead letter %s/%d@%d group %q attempts %d error %q; want %s@%d, %s, 1 attempt, cannot decode",
			l.Topic, l.Partition, l.Offset, l.Group, l.Attempts, l.Error, topic, poison, group)
	}
	seen := got.all()
	if len(seen) != len(want) {
		t.Fatalf("the actor got %d deliveries %+v, want %d", len(seen), seen, len(want))
	}
	for _, d := range seen {
		if d.offset == poison {
			t.Fatalf("the undecodable record reached the actor: %+v", d)
		}
		if w, ok := want[d.offset]; !ok || d.attempt != 1 || !reflect.DeepEqual(d.value, w) {
			t.Errorf("delivery of offset %d attempt %d: Value %#v, want %#v on attempt 1", d.offset, d.attempt, d.value, w)
		}
	}
	if n := actortest.EndOffsets(t, b, topic+".dlq")[0]; n != 1 {
		t.Errorf("%s.dlq holds %d records, want 1", topic, n)
	}
}

// ConsumeWith with WithSchema hands the service's actors the Avro record
// decoded into a map; a record that is not Avro is dead-lettered at once
// and never reaches them.
func TestConsumeWithSchemaDecodesForTheActor(t *testing.T) {
	t.Parallel()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	rt := actortest.Runtime(t, b)
	s := schema.MustParse(`{"type":"record","name":"Order","fields":[
		{"name":"order_id","type":"long"},{"name":"status","type":"string"}]}`)
	var got deliveries
	if err := actors.ConsumeWith(rt, "orders", "svc", got.props(), actors.WithSchema(s), fastRetries()); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[map[string]any](rt, "orders", actors.WithSchema(s))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Publish(ctx, map[string]any{"order_id": 7, "status": "NEW"}); err != nil {
		t.Fatal(err)
	}
	actortest.Produce(t, b, "orders", actortest.Value(`{"order_id":8,"status":"NEW"}`)) // JSON, not Avro
	if _, err := p.Publish(ctx, map[string]any{"order_id": 9, "status": "PAID"}); err != nil {
		t.Fatal(err)
	}
	checkPoisonDeadLettered(t, b, "orders", "svc", 1, &got, map[int64]any{
		0: map[string]any{"order_id": int64(7), "status": "NEW"},
		2: map[string]any{"order_id": int64(9), "status": "PAID"},
	})
}

// kvDecoder decodes "key=value" into a map; anything else does not decode.
type kvDecoder struct{}

func (kvDecoder) Decode(data []byte, v any) error {
	k, val, ok := strings.Cut(string(data), "=")
	if !ok {
		return errors.New("no '=' in " + fmt.Sprintf("%q", data))
	}
	p, ok := v.(*any)
	if !ok {
		return fmt.Errorf("kvDecoder decodes into *any, not %T", v)
	}
	*p = map[string]string{k: val}
	return nil
}

// ConsumeWith with WithDecoder hands the service's actors what the decoder
// made of the record; a record it rejects is dead-lettered at once and
// never reaches them.
func TestConsumeWithDecoderDecodesForTheActor(t *testing.T) {
	t.Parallel()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "settings", 1)
	rt := actortest.Runtime(t, b)
	var got deliveries
	if err := actors.ConsumeWith(rt, "settings", "svc", got.props(), actors.WithDecoder(kvDecoder{}), fastRetries()); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "settings", actortest.Value("lang=en"), actortest.Value("garbage"), actortest.Value("tz=UTC"))
	checkPoisonDeadLettered(t, b, "settings", "svc", 1, &got, map[int64]any{
		0: map[string]string{"lang": "en"},
		2: map[string]string{"tz": "UTC"},
	})
	l := actortest.WaitDeadLetters(t, b, "settings.dlq", 1)[0]
	if !strings.Contains(l.Error, `no '=' in "garbage"`) || string(l.Value) != "garbage" {
		t.Errorf("dead letter %q error %q: want the record and the decoder's reason", l.Value, l.Error)
	}
}
