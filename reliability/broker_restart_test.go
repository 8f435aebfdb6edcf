package reliability

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
)

// TestBrokerRestart: the embedded broker, with a data dir, is stopped and
// started again on the same address while an in-process runtime publishes
// (actors.Producer, idempotent, acks=all) and consumes. Every publish
// succeeds once its client has retried through the outage; the topic holds
// each record exactly once (idempotence: no duplicate from a retried
// batch); the consumer reconnects and handles every record.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	// The stream lasts 10 s (quick) or 40 s (long): long enough for every
	// outage to fall inside it, each a second of records after publishing
	// resumed from the last.
	n := pick(5_000, 60_000)
	rate := pick(500, 1_500)
	restarts := pick(2, 6)
	const (
		topic, group = "payments", "ledger"
		partitions   = 3
		downtime     = 500 * time.Millisecond
	)
	addr := freeAddr(t)
	bcfg := broker.Config{Listen: addr, DataDir: t.TempDir()}
	// broker.Start, not actortest.Broker: the broker must come back on
	// the same address.
	cur, err := broker.Start(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	var bmu sync.Mutex
	t.Cleanup(func() {
		bmu.Lock()
		defer bmu.Unlock()
		cur.Close()
	})
	createTopic(t, addr, topic, partitions)

	// Commits every 100ms, warnings logged, no metrics listener; stopped
	// (drain within 10s) at cleanup, before the broker closes.
	rt := actortest.Runtime(t, actortest.At(addr), actors.DrainTimeout(10*time.Second))

	var (
		hmu  sync.Mutex
		seen = map[string]int{}
	)
	if err := actors.Consume(rt, topic, group, func(_ context.Context, m actors.Message[string]) error {
		hmu.Lock()
		seen[m.Value]++
		hmu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	prod, err := actors.NewKeyedProducer(rt, topic, func(v string) string { return "k" + v[len(v)-1:] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// The publisher: n values at about rate a second, as a service would;
	// each outcome is counted.
	var (
		sent, acked atomic.Int64
		failed      atomic.Int64
		emu         sync.Mutex
		firstErr    error
		pubs        sync.WaitGroup
	)
	pubs.Add(n)
	go func() {
		start := time.Now()
		for i := range n {
			if due := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second))); time.Until(due) > 10*time.Millisecond {
				time.Sleep(time.Until(due)) // the publisher's schedule
			}
			sent.Add(1)
			err := prod.PublishAsync(ctx, strconv.Itoa(i), func(_ actors.Receipt, err error) {
				if err != nil {
					failed.Add(1)
					emu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					emu.Unlock()
				} else {
					acked.Add(1)
				}
				pubs.Done()
			})
			if err != nil {
				t.Errorf("publish %d: %v", i, err)
				pubs.Done()
			}
		}
	}()

	// The outages: each once another second of records is acknowledged.
	var outages, resumed []string
	next := int64(rate)
	for i := range restarts {
		eventually(t, 3*time.Minute, fmt.Sprintf("%d records acknowledged before outage %d", next, i+1), func() bool {
			return acked.Load()+failed.Load() >= next
		})
		bmu.Lock()
		cur.Close()
		bmu.Unlock()
		closedAt, ackedAtClose, sentAtClose := time.Now(), acked.Load(), sent.Load()
		if sentAtClose == int64(n) {
			t.Errorf("outage %d began after the last publish: the stream is too short", i+1)
		}
		time.Sleep(downtime) // the outage: the schedule, not a wait for an outcome
		b, err := broker.Start(bcfg)
		if err != nil {
			t.Fatalf("restart %d on %s: %v", i+1, addr, err)
		}
		bmu.Lock()
		cur = b
		bmu.Unlock()
		eventually(t, time.Minute, "publishing to resume", func() bool {
			return acked.Load() > ackedAtClose || acked.Load()+failed.Load() == int64(n)
		})
		outages = append(outages, strconv.FormatInt(ackedAtClose, 10))
		resumed = append(resumed, time.Since(closedAt).Round(100*time.Millisecond).String())
		next = acked.Load() + int64(rate)
	}
	done := make(chan struct{})
	go func() { pubs.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("publishing: %d acknowledged, %d failed of %d at the deadline", acked.Load(), failed.Load(), n)
	}
	if f := failed.Load(); f > 0 {
		t.Errorf("%d of %d publishes failed; first: %v", f, n, firstErr)
	}

	eventually(t, 3*time.Minute, "every record handled", func() bool {
		hmu.Lock()
		defer hmu.Unlock()
		return len(seen) >= n
	})

	// What the topic holds, read back without a group.
	inTopic := readTopic(t, addr, topic)
	f := figures{scenario: "broker-restart", sent: n}
	stored := map[string]int{}
	for _, v := range inTopic {
		stored[v]++
	}
	producerDups := len(inTopic) - len(stored)
	hmu.Lock()
	for i := range n {
		v := strconv.Itoa(i)
		switch c := seen[v]; {
		case c == 0:
			f.lost++
		default:
			f.handled++
			f.duplicated += c - 1
		}
		if stored[v] == 0 {
			t.Errorf("record %s acknowledged but not in the topic", v)
		}
	}
	hmu.Unlock()
	if f.lost > 0 {
		t.Errorf("lost %d records", f.lost)
	}
	if len(inTopic) != n || producerDups != 0 {
		t.Errorf("topic holds %d records (%d duplicated by retries), sent %d", len(inTopic), producerDups, n)
	}
	f.add("restarts", restarts)
	f.add("downtime", downtime)
	f.add("in_topic", len(inTopic))
	f.add("producer_duplicates", producerDups)
	f.add("publish_failures", failed.Load())
	f.add("acked_at_outages", strings.Join(outages, ","))
	f.add("acks_resumed_after", strings.Join(resumed, ","))
	f.report(t)
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago, for a broker that must come back on the same address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// readTopic returns the values of every record in topic, from the start
// to the end offsets at the time of the call.
func readTopic(t *testing.T, addr, topic string) []string {
	t.Helper()
	end := endOffsets(t, addr, topic)
	want := int64(0)
	for _, e := range end {
		want += e
	}
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []string
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: %d of %d records: %v", topic, len(out), want, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("reading %s: %v", topic, err) })
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}
