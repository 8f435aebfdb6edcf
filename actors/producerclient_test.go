package actors_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
)

// wireBatch is one record batch as the broker received it.
type wireBatch struct {
	acks       int16
	topic      string   // empty from Produce v13 on, which names topics by id
	topicID    [16]byte // zero before v13
	codec      int16    // the batch's compression attribute: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	producerID int64    // -1 without idempotence
	length     int32
	records    int32
}

// produceWire records every produce request the embedded broker b gets,
// batch by batch, and lets the broker handle it as usual.
type produceWire struct {
	b       *broker.Broker
	mu      sync.Mutex
	batches []wireBatch
}

func observeProduce(t *testing.T, b *broker.Broker) *produceWire {
	t.Helper()
	w := &produceWire{}
	c := b.Cluster()
	c.ControlKey(kmsg.Produce.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.ProduceRequest)
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, tp := range req.Topics {
			for _, p := range tp.Partitions {
				for raw := p.Records; len(raw) > 0; {
					var rb kmsg.RecordBatch
					if err := rb.ReadFrom(raw); err != nil {
						t.Errorf("produce request with an unreadable batch: %v", err)
						break
					}
					w.batches = append(w.batches, wireBatch{acks: req.Acks, topic: tp.Topic, topicID: tp.TopicID, codec: rb.Attributes & 0x07,
						producerID: rb.ProducerID, length: rb.Length, records: rb.NumRecords})
					raw = raw[12+int(rb.Length):] // base offset and length, then the batch
				}
			}
		}
		return nil, nil, false
	})
	w.b = b
	return w
}

// of lists the batches written to topic, by its name or its id.
func (w *produceWire) of(t *testing.T, topic string) []wireBatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	td, err := kadm.NewClient(actortest.Client(t, w.b)).ListTopics(ctx, topic)
	if err != nil || !td.Has(topic) {
		t.Fatalf("topic %s: %v", topic, err)
	}
	id := td[topic].ID
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wireBatch
	for _, b := range w.batches {
		if b.topic == topic || (b.topic == "" && b.topicID == id) {
			out = append(out, b)
		}
	}
	return out
}

// publishMany publishes n values (compressible JSON) and waits for them.
func publishMany(t *testing.T, rt *actors.Runtime, topic string, n int) {
	t.Helper()
	p, err := actors.NewProducer[map[string]any](rt, topic)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		v := map[string]any{"order_id": i, "note": strings.Repeat("the same words again and again ", 4)}
		if err := p.PublishAsync(ctx, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// Each codec is what goes over the wire, and the records read back whole.
func TestProducerCompressionOnTheWire(t *testing.T) {
	b := actortest.Broker(t)
	w := observeProduce(t, b)
	for _, tc := range []struct {
		c     actors.Compression
		codec int16
	}{
		{actors.DefaultCompression, 0},
		{actors.CompressionGzip, 1},
		{actors.CompressionSnappy, 2},
		{actors.CompressionLZ4, 3},
		{actors.CompressionZstd, 4},
	} {
		t.Run(tc.c.String(), func(t *testing.T) {
			topic := "compressed-" + tc.c.String()
			actortest.CreateTopic(t, b, topic, 1)
			rt := actortest.Runtime(t, b, actors.ProducerCompression(tc.c))
			publishMany(t, rt, topic, 50)
			batches := w.of(t, topic)
			if len(batches) == 0 {
				t.Fatal("no batch reached the broker")
			}
			for _, bt := range batches {
				if bt.codec != tc.codec {
					t.Errorf("batch codec %d, want %d (%s)", bt.codec, tc.codec, tc.c)
				}
			}
			got := actortest.ReadTopic(t, b, topic, 50)
			if !strings.Contains(string(got[49].Value), `"order_id":49`) {
				t.Errorf("record 49 read back as %q", got[49].Value)
			}
		})
	}
}

// Acks on the wire: all with an idempotent producer id, leader and none
// without; and with none, the runtime's own dead letters still wait for
// every replica, idempotently.
func TestProducerAcksOnTheWire(t *testing.T) {
	b := actortest.Broker(t)
	w := observeProduce(t, b)
	for _, tc := range []struct {
		a    actors.Acks
		acks int16
	}{{actors.AcksAll, -1}, {actors.AcksLeader, 1}, {actors.AcksNone, 0}} {
		t.Run(tc.a.String(), func(t *testing.T) {
			topic := "acks-" + tc.a.String()
			actortest.CreateTopic(t, b, topic, 1)
			rt := actortest.Runtime(t, b, actors.ProducerAcks(tc.a))
			err := actors.Consume(rt, topic, "g-"+topic, func(context.Context, actors.Message[string]) error {
				return actors.Permanent(errors.New("to the dead letters"))
			})
			if err != nil {
				t.Fatal(err)
			}
			actortest.Start(t, rt)
			p, err := actors.NewProducer[string](rt, topic)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Publish(context.Background(), "v"); err != nil {
				t.Fatal(err)
			}
			actortest.WaitDeadLetters(t, b, topic+".dlq", 1)
			if len(w.of(t, topic)) == 0 || len(w.of(t, topic+".dlq")) == 0 {
				t.Fatal("no batch of the record or its dead letter reached the broker")
			}
			for _, bt := range w.of(t, topic) {
				if bt.acks != tc.acks {
					t.Errorf("produce acks %d, want %d", bt.acks, tc.acks)
				}
				if idem := bt.producerID >= 0; idem != (tc.a == actors.AcksAll) {
					t.Errorf("producer id %d: idempotent %v, want %v", bt.producerID, idem, tc.a == actors.AcksAll)
				}
			}
			for _, bt := range w.of(t, topic+".dlq") {
				if bt.acks != -1 || bt.producerID < 0 {
					t.Errorf("dead letter written with acks %d, producer id %d: want acks=all, idempotent", bt.acks, bt.producerID)
				}
			}
		})
	}
}

// Batches stay within ProducerBatchMaxBytes, and a long linger holds a
// lone record back.
func TestProducerBatchMaxBytesAndLinger(t *testing.T) {
	b := actortest.Broker(t)
	w := observeProduce(t, b)
	actortest.CreateTopic(t, b, "small-batches", 1)
	rt := actortest.Runtime(t, b, actors.ProducerBatchMaxBytes(2048), actors.ProducerLinger(time.Second))
	publishMany(t, rt, "small-batches", 100)
	batches := w.of(t, "small-batches")
	if len(batches) < 5 {
		t.Errorf("%d batches for 100 records of ~160 bytes under a 2 KiB cap, want several", len(batches))
	}
	total := int32(0)
	for _, bt := range batches {
		total += bt.records
		if bt.length > 2048 {
			t.Errorf("batch of %d bytes over the 2048-byte cap", bt.length)
		}
	}
	if total != 100 {
		t.Errorf("%d records in batches, want 100", total)
	}

	actortest.CreateTopic(t, b, "lingering", 1)
	p, err := actors.NewProducer[string](rt, "lingering")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Publish(context.Background(), "alone"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("a lone Publish returned after %s with a 1s linger, want it held about 1s", d)
	}
}

// At MaxBufferedRecords unacknowledged records, PublishAsync blocks until
// its ctx ends, and the record fails with the ctx's error: a broker that
// does not answer holds at most that many records.
func TestMaxBufferedRecordsBlocksPublish(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "held", 1)
	rt := actortest.Runtime(t, b, actors.MaxBufferedRecords(3))
	actortest.Start(t, rt)
	// The broker stops answering produce requests (it holds them).
	c := b.Cluster()
	release := make(chan struct{})
	c.ControlKey(kmsg.Produce.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	defer close(release)
	p, err := actors.NewProducer[string](rt, "held")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := p.PublishAsync(context.Background(), "v", nil); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	failed := make(chan error, 1)
	start := time.Now()
	if err := p.PublishAsync(ctx, "v", func(_ actors.Receipt, err error) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("the fourth PublishAsync returned after %s, want it blocked until its ctx ended (300ms)", d)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the fourth record failed with %v, want its ctx's deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fourth record's callback never came")
	}
}

// refuseProduce makes the broker answer every produce request with a
// retriable error, and counts them.
func refuseProduce(b *broker.Broker) *int64 {
	c := b.Cluster()
	var mu sync.Mutex
	n := new(int64)
	c.ControlKey(kmsg.Produce.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = kerr.NotEnoughReplicas.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		mu.Lock()
		*n++
		mu.Unlock()
		return resp, nil, true
	})
	return n
}

// RecordRetries fails a record after that many retries of its request;
// DeliveryTimeout fails it after that long, however many.
func TestRecordRetriesAndDeliveryTimeout(t *testing.T) {
	t.Run("retries", func(t *testing.T) {
		b := actortest.Broker(t)
		actortest.CreateTopic(t, b, "refused", 1)
		rt := actortest.Runtime(t, b, actors.RecordRetries(2), actors.DeliveryTimeout(30*time.Second))
		n := refuseProduce(b)
		p, err := actors.NewProducer[string](rt, "refused")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Publish(context.Background(), "v")
		if !errors.Is(err, kerr.NotEnoughReplicas) {
			t.Fatalf("Publish: %v, want NOT_ENOUGH_REPLICAS after the retries", err)
		}
		if *n != 3 {
			t.Errorf("%d produce requests, want 3 (the first and 2 retries)", *n)
		}
	})
	t.Run("delivery timeout", func(t *testing.T) {
		b := actortest.Broker(t)
		actortest.CreateTopic(t, b, "refused", 1)
		rt := actortest.Runtime(t, b, actors.DeliveryTimeout(time.Second), actors.RequestTimeout(30*time.Second))
		refuseProduce(b)
		p, err := actors.NewProducer[string](rt, "refused")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Publish(context.Background(), "v")
		if err == nil {
			t.Fatal("Publish succeeded against a broker that refuses every produce")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Publish failed after %s with a 1s delivery timeout", d)
		}
	})
}

// A bad value of each option is one error naming it.
func TestProducerOptionsRefuseBadValues(t *testing.T) {
	for _, tc := range []struct {
		opt  actors.RuntimeOption
		want string
	}{
		{actors.ProducerCompression(actors.Compression(9)), "actors.ProducerCompression(Compression(9))"},
		{actors.ProducerLinger(-time.Millisecond), "actors.ProducerLinger(-1ms): must be between 0 and 1m0s"},
		{actors.ProducerLinger(2 * time.Minute), "actors.ProducerLinger(2m0s)"},
		{actors.ProducerBatchMaxBytes(100), "actors.ProducerBatchMaxBytes(100): must be between 512 and 104857600"},
		{actors.MaxBufferedRecords(0), "actors.MaxBufferedRecords(0): must be at least 1"},
		{actors.ProducerAcks(actors.Acks(7)), "actors.ProducerAcks(Acks(7))"},
		{actors.RecordRetries(-1), "actors.RecordRetries(-1): must be at least 0"},
		{actors.DeliveryTimeout(10 * time.Millisecond), "actors.DeliveryTimeout(10ms): must be at least 1s"},
	} {
		_, err := actors.New(actors.Brokers("127.0.0.1:1"), tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	for _, s := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		if c, err := actors.ParseCompression(s); err != nil || c.String() != s {
			t.Errorf("ParseCompression(%q) = %v, %v", s, c, err)
		}
	}
	if _, err := actors.ParseCompression("brotli"); err == nil || !strings.Contains(err.Error(), `"brotli" is not one of none, gzip, snappy, lz4, zstd`) {
		t.Errorf("ParseCompression(brotli): %v", err)
	}
	if _, err := actors.ParseAcks("1"); err == nil || !strings.Contains(err.Error(), `"1" is not one of all, leader, none`) {
		t.Errorf("ParseAcks(1): %v", err)
	}
}
