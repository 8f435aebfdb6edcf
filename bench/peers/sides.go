package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/bench"
)

// The settings every side is given where its client has the knob: the
// ones make bench's sides run with (package bench), so that each fetches
// as much per partition, lets the broker hold a fetch as long and commits
// as often.
const (
	fetchPartitionBytes = bench.FetchPartitionBytes
	fetchMaxWait        = bench.FetchMaxWait
	commitInterval      = bench.CommitInterval
	keyConcurrency      = 16
	// kafkaGoMaxWait is kafka-go's MaxWait, which is also the read
	// deadline of a whole fetch response: at 50 ms, fetches on the loaded
	// 2-core machine timed out and reconnected. With MinBytes 1 it only
	// matters when there is nothing to fetch.
	kafkaGoMaxWait = time.Second
	// rdkafkaQueueBackoff is librdkafka's fetch.queue.backoff.ms (see
	// startConfluent).
	rdkafkaQueueBackoff = 10 * time.Millisecond
)

// side is one consumer under test. start runs it as a fresh member of
// group on topic, calling fn after each record is received and before
// its offset may be committed; stop drains, commits and closes.
type side struct {
	name     string
	settings string // how it fetches and commits, for the report
	// target is issue 19's floor for this side's records/s against raw
	// franz-go's (0: none).
	target float64
	start  func(addr, topic, group string, fn func([]byte)) (stop func() error, err error)
}

var sides = []side{
	{
		name: "raw franz-go poll loop",
		settings: fmt.Sprintf("franz-go v1.22.3, make bench's baseline loop: `PollRecords(ctx, 10000)`, handler per record, "+
			"`MarkCommitRecords` of each partition's last record after its records are handled, `AutoCommitMarks` every %v, "+
			"`BlockRebalanceOnPoll`, commit of the marks on revoke and at close; fetch %d KiB a partition, max wait %v; cooperative-sticky",
			commitInterval, fetchPartitionBytes>>10, fetchMaxWait),
		start: func(addr, topic, group string, fn func([]byte)) (func() error, error) {
			return startBench(addr, topic, group, bench.Side{Name: "raw", Raw: true}, fn)
		},
	},
	{
		name:   "actord partition mode",
		target: 1.0,
		settings: fmt.Sprintf("`actors.Consume` of `[]byte` values, `Ordering(ByPartition)`, `NoDeadLetter()`; the runtime marks a record once its handler returned and commits marks every %v and at stop; "+
			"fetch %d KiB a partition, %d in flight a partition (the defaults)", commitInterval, fetchPartitionBytes>>10, bench.MaxInFlight),
		start: func(addr, topic, group string, fn func([]byte)) (func() error, error) {
			return startBench(addr, topic, group, bench.Side{Name: "partition", Ordering: actors.ByPartition}, fn)
		},
	},
	{
		name:   "actord key mode c" + strconv.Itoa(keyConcurrency),
		target: 0.8,
		settings: fmt.Sprintf("as partition mode with `Ordering(ByKey)`, `Concurrency(%d)`: a partition's offset is committed up to the lowest record still in flight",
			keyConcurrency),
		start: func(addr, topic, group string, fn func([]byte)) (func() error, error) {
			return startBench(addr, topic, group, bench.Side{Name: "key", Ordering: actors.ByKey, Concurrency: keyConcurrency}, fn)
		},
	},
	{
		name: "IBM/sarama consumer group",
		settings: fmt.Sprintf("sarama v1.61.1 `ConsumerGroup`, protocol version 2.8, `ConsumeClaim` ranging over `claim.Messages()`, `sess.MarkMessage` after the handler, "+
			"auto-commit of marks every %v and at close; `Fetch.Default` %d KiB (per partition), `MaxWaitTime` %v, `ChannelBufferSize` 256 (default); range balancer (default)",
			commitInterval, fetchPartitionBytes>>10, fetchMaxWait),
		start: startSarama,
	},
	{
		name: "segmentio/kafka-go Reader",
		settings: fmt.Sprintf("kafka-go v0.4.51 `Reader` with `GroupID`, `FetchMessage`, handler, `CommitMessages(msg)` per record with `CommitInterval` %v (asynchronous: queued, committed by the reader every interval and at close); "+
			"`MaxBytes` %d KiB (one fetch is one partition's), `MinBytes` 1, `MaxWait` %v (kafka-go's MaxWait is also the read deadline of the whole fetch: at 50 ms fetches timed out under load and reconnected), `QueueCapacity` 100 (default); range balancer (default)",
			commitInterval, fetchPartitionBytes>>10, kafkaGoMaxWait),
		start: startKafkaGo,
	},
	{
		name: "confluent-kafka-go (librdkafka)",
		settings: fmt.Sprintf("confluent-kafka-go v2.11.1, librdkafka %s bundled (cgo), `Poll(100)` loop, handler, `StoreMessage` after it (`enable.auto.offset.store=false`), "+
			"`enable.auto.commit` every %v and at close; `max.partition.fetch.bytes` %d KiB, `fetch.wait.max.ms` %d, `fetch.min.bytes` 1, "+
			"`queued.min.messages` 100000 (default), `fetch.queue.backoff.ms` %d (default 1000: a partition whose queue was full waited a second for its next fetch while the application drained the queue faster, ~115k records/s); range,roundrobin (default)",
			librdkafkaVersion(), commitInterval, fetchPartitionBytes>>10, fetchMaxWait.Milliseconds(), rdkafkaQueueBackoff.Milliseconds()),
		start: startConfluent,
	},
	{
		name: "Watermill (watermill-kafka)",
		settings: fmt.Sprintf("Watermill v1.5.1, watermill-kafka v3.0.6 `Subscriber` (sarama v1.61.1 consumer group underneath), `Subscribe` channel, handler, `msg.Ack()`; "+
			"watermill marks the message on ack and sarama auto-commits every %v; one message in flight a partition (watermill waits for the ack); "+
			"`DefaultMarshaler`; sarama settings as the sarama side", commitInterval),
		start: startWatermill,
	},
}

func startBench(addr, topic, group string, s bench.Side, fn func([]byte)) (func() error, error) {
	r, err := bench.Connect(addr).StartConsumer(s, topic, group, func(_ int32, v []byte) { fn(v) })
	if err != nil {
		return nil, err
	}
	return r.Stop, nil
}

func saramaConfig(base *sarama.Config) *sarama.Config {
	c := base
	c.ClientID = bench.ClientID
	c.Version = sarama.V2_8_0_0
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.Offsets.AutoCommit.Interval = commitInterval
	c.Consumer.Fetch.Default = fetchPartitionBytes
	c.Consumer.MaxWaitTime = fetchMaxWait
	c.Consumer.Return.Errors = true
	return c
}

type saramaHandler struct{ fn func([]byte) }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.fn(m.Value)
		sess.MarkMessage(m, "")
	}
	return nil
}

func startSarama(addr, topic, group string, fn func([]byte)) (func() error, error) {
	g, err := sarama.NewConsumerGroup([]string{addr}, group, saramaConfig(sarama.NewConfig()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		for err := range g.Errors() {
			log.Printf("sarama: %v", err)
		}
	}()
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, saramaHandler{fn}); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				log.Printf("sarama consume: %v", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
		done <- nil
	}()
	return func() error {
		cancel()
		<-done
		return g.Close()
	}, nil
}

func startKafkaGo(addr, topic, group string, fn func([]byte)) (func() error, error) {
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:        []string{addr},
		GroupID:        group,
		Topic:          topic,
		Dialer:         &kafkago.Dialer{ClientID: bench.ClientID, Timeout: 10 * time.Second, DualStack: true},
		MinBytes:       1,
		MaxBytes:       fetchPartitionBytes,
		MaxWait:        kafkaGoMaxWait,
		CommitInterval: commitInterval,
		StartOffset:    kafkago.FirstOffset,
		ErrorLogger:    kafkago.LoggerFunc(func(f string, a ...any) { log.Printf("kafka-go: "+f, a...) }),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, io.EOF) {
					log.Printf("kafka-go fetch: %v", err)
				}
				return
			}
			fn(m.Value)
			if err := r.CommitMessages(ctx, m); err != nil && ctx.Err() == nil {
				log.Printf("kafka-go commit: %v", err)
			}
		}
	}()
	return func() error {
		cancel()
		<-done
		return r.Close()
	}, nil
}

func librdkafkaVersion() string {
	_, s := kafka.LibraryVersion()
	return s
}

func startConfluent(addr, topic, group string, fn func([]byte)) (func() error, error) {
	c, err := kafka.NewConsumer(&kafka.ConfigMap{
		"bootstrap.servers":         addr,
		"client.id":                 bench.ClientID,
		"group.id":                  group,
		"auto.offset.reset":         "earliest",
		"enable.auto.commit":        true,
		"enable.auto.offset.store":  false,
		"auto.commit.interval.ms":   int(commitInterval.Milliseconds()),
		"max.partition.fetch.bytes": fetchPartitionBytes,
		"fetch.wait.max.ms":         int(fetchMaxWait.Milliseconds()),
		"fetch.min.bytes":           1,
		// At the default 1000 ms a partition whose queue reached
		// queued.min.messages (100,000) waited a second for its next
		// fetch ("Fetch backoff for 1000ms: Local: Queue full") while the
		// application drained the queue faster than that: about 115k
		// records/s. librdkafka's documentation advises lowering it then.
		"fetch.queue.backoff.ms": int(rdkafkaQueueBackoff.Milliseconds()),
	})
	if err != nil {
		return nil, err
	}
	if err := c.Subscribe(topic, nil); err != nil {
		c.Close()
		return nil, err
	}
	var stopping sync.WaitGroup
	quit := make(chan struct{})
	stopping.Add(1)
	go func() {
		defer stopping.Done()
		for {
			select {
			case <-quit:
				return
			default:
			}
			switch e := c.Poll(100).(type) {
			case *kafka.Message:
				fn(e.Value)
				if _, err := c.StoreMessage(e); err != nil {
					log.Printf("confluent store: %v", err)
				}
			case kafka.Error:
				log.Printf("confluent: %v", e)
			}
		}
	}()
	return func() error {
		close(quit)
		stopping.Wait()
		return c.Close()
	}, nil
}

func startWatermill(addr, topic, group string, fn func([]byte)) (func() error, error) {
	base := wmkafka.DefaultSaramaSubscriberConfig()
	s, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
		Brokers:               []string{addr},
		Unmarshaler:           wmkafka.DefaultMarshaler{},
		OverwriteSaramaConfig: saramaConfig(base),
		ConsumerGroup:         group,
	}, watermill.NopLogger{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	msgs, err := s.Subscribe(ctx, topic)
	if err != nil {
		cancel()
		s.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range msgs {
			fn(m.Payload)
			m.Ack()
		}
	}()
	return func() error {
		cancel()
		err := s.Close()
		<-done
		return err
	}, nil
}
