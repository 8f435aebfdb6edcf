package actors_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/dlq"
)

// A record the dead-letter topic can never take (larger than its
// max.message.bytes) must not hold its partition forever: it is
// dead-lettered as a stub naming where it is, and the records behind it
// are handled and dead-lettered as usual.
func TestDeadLetterTooLargeForTheDLQBecomesAStub(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "big", 1)
	cl := actortest.Client(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), actortest.Timeout)
	defer cancel()
	maxBytes := "1024"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &maxBytes}, "big.dlq"); err != nil {
		t.Fatal(err)
	}
	rt := actortest.Runtime(t, b)
	var handled []string
	err := actors.Consume(rt, "big", "g", func(_ context.Context, m actors.Message[[]byte]) error {
		handled = append(handled, string(m.Key))
		return actors.Permanent(errors.New("refused"))
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Produce(t, b, "big",
		&kgo.Record{Key: []byte("huge"), Value: incompressible(8 << 10)},
		actortest.KeyValue("a", "1"), actortest.KeyValue("b", "2"), actortest.KeyValue("c", "3"))
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "g", "big")
	ls := actortest.WaitDeadLetters(t, b, "big.dlq", 4)
	why, stub := ls[0].Raw(dlq.HeaderStub)
	if !stub || !strings.Contains(why, "MESSAGE_TOO_LARGE") || ls[0].Topic != "big" || ls[0].Offset != 0 || len(ls[0].Value) != 0 {
		t.Errorf("first dead letter = stub %v (%q) of %s@%d, value %d bytes; want a stub of big@0 saying MESSAGE_TOO_LARGE", stub, why, ls[0].Topic, ls[0].Offset, len(ls[0].Value))
	}
	for i, want := range []string{"a", "b", "c"} {
		l := ls[i+1]
		if _, stub := l.Raw(dlq.HeaderStub); stub || string(l.Key) != want || l.Offset != int64(i+1) {
			t.Errorf("dead letter %d = key %q offset %d stub %v; want the whole record %q at offset %d", i+1, l.Key, l.Offset, stub, want, i+1)
		}
	}
	if _, err := dlq.Replay(ctx, cl, ls[:1]); err == nil || !strings.Contains(err.Error(), "replay the original from big partition 0 offset 0") {
		t.Errorf("replaying the stub: %v; want a refusal naming where the original is", err)
	}
}

// incompressible is n random bytes: a producer's compression cannot bring
// them under the dead-letter topic's limit.
func incompressible(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
