package fromconfig_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/internal/fromconfig"
)

// The producer section reaches the runtime's client: the batches a
// producer writes arrive zstd-compressed with acks=1 (leader), no
// idempotence, and the linger holds a lone record about as long.
func TestProducerSectionReachesTheClient(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "configured", 1)
	type seen struct {
		acks       int16
		codec      int16
		producerID int64
	}
	var mu sync.Mutex
	var got []seen
	b.Cluster().ControlKey(kmsg.Produce.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.ProduceRequest)
		mu.Lock()
		defer mu.Unlock()
		for _, tp := range req.Topics {
			for _, p := range tp.Partitions {
				var rb kmsg.RecordBatch
				if rb.ReadFrom(p.Records) == nil {
					got = append(got, seen{req.Acks, rb.Attributes & 0x07, rb.ProducerID})
				}
			}
		}
		return nil, nil, false
	})
	cfg := testConfig(b.Addr())
	cfg.Producer.Compression = "zstd"
	cfg.Producer.Acks = "leader"
	cfg.Producer.Linger = 300 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	frt, err := fromconfig.NewRuntime(cfg, actors.WithLogger(actortest.Logger()))
	if err != nil {
		t.Fatal(err)
	}
	defer frt.Close()
	defer frt.Stop(context.Background())
	p, err := actors.NewProducer[string](frt.Runtime, "configured")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Publish(context.Background(), "the same words again and again and again and again"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("Publish returned after %s with producer.linger 300ms", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != (seen{acks: 1, codec: 4, producerID: -1}) {
		t.Errorf("batches %+v, want one with acks 1, codec 4 (zstd), producer id -1", got)
	}
}
