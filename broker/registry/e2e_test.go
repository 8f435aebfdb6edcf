package registry_test

import (
	"context"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker/registry"
	"github.com/actord/actord/schema"
)

type order struct {
	ID    int64   `avro:"id"`
	Total float64 `avro:"total"`
}

func srClient(t *testing.T, url string, cfg schema.RegistryConfig) *schema.RegistryClient {
	t.Helper()
	cfg.URLs = []string{url}
	c, err := schema.NewRegistryClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// publish produces n orders through rt's registry (Confluent framing).
func publish(t *testing.T, rt *actors.Runtime, topic string, n int) {
	t.Helper()
	s, err := schema.For[order]()
	if err != nil {
		t.Fatal(err)
	}
	p, err := actors.NewProducer[order](rt, topic, actors.WithSchema(s))
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), actortest.Timeout)
	defer cancel()
	var failed atomic.Value
	for i := range n {
		err := p.PublishAsync(c, order{ID: int64(i), Total: float64(i) / 2}, func(_ actors.Receipt, err error) {
			if err != nil {
				failed.Store(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(c); err != nil {
		t.Fatal(err)
	}
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
}

// A producer registers its schema once and a consumer of 10,000 records of
// that schema looks its id up once: two registry requests in all, so
// lookups per record are 0 after the first. Every record arrives with its
// values.
func TestTenThousandRecordsOneLookup(t *testing.T) {
	t.Parallel()
	const n = 10_000
	b := actortest.Broker(t)
	reg := start(t, "")
	actortest.CreateTopic(t, b, "orders", 2)
	prodRT := actortest.Runtime(t, b, actors.WithSchemaRegistry(srClient(t, reg.URL(), schema.RegistryConfig{})))
	actortest.Start(t, prodRT)
	publish(t, prodRT, "orders", n)
	if got := reg.Requests(); got != 1 {
		t.Errorf("producer of %d records sent %d registry requests, want 1", n, got)
	}
	s, _ := schema.For[order]()
	rt := actortest.Runtime(t, b, actors.WithSchemaRegistry(srClient(t, reg.URL(), schema.RegistryConfig{})))
	var mu sync.Mutex
	seen := map[int64]float64{}
	err := actors.Consume(rt, "orders", "billing", func(_ context.Context, m actors.Message[order]) error {
		mu.Lock()
		seen[m.Value.ID] = m.Value.Total
		mu.Unlock()
		return nil
	}, actors.WithSchema(s))
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n || seen[n-1] != float64(n-1)/2 {
		t.Errorf("consumed %d distinct orders (last total %v), want %d", len(seen), seen[n-1], n)
	}
	if got := reg.Requests() - 1; got != 1 {
		t.Errorf("consumer of %d records sent %d registry requests, want 1", n, got)
	}
}

// refusing accepts connections on addr and closes them at once: a
// registry host whose service is down. It counts the connections.
type refusing struct {
	ln net.Listener
	n  atomic.Int64
}

func refuse(t *testing.T, addr string) *refusing {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &refusing{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.n.Add(1)
			c.Close()
		}
	}()
	return r
}

// A registry that is down while a consumer needs a schema id holds the
// records: they are retried, never dead-lettered, and all are handled
// once the registry is back (restarted on its data dir, same ids).
func TestRegistryDownOnConsumeIsRetried(t *testing.T) {
	t.Parallel()
	const n = 20
	b := actortest.Broker(t)
	dir := t.TempDir()
	reg := start(t, dir)
	addr := reg.Addr()
	actortest.CreateTopic(t, b, "payments", 1)
	prodRT := actortest.Runtime(t, b, actors.WithSchemaRegistry(srClient(t, reg.URL(), schema.RegistryConfig{})))
	actortest.Start(t, prodRT)
	publish(t, prodRT, "payments", n)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	down := refuse(t, addr)

	s, _ := schema.For[order]()
	cl := srClient(t, "http://"+addr, schema.RegistryConfig{Attempts: 1, Backoff: 5 * time.Millisecond, Timeout: time.Second})
	rt := actortest.Runtime(t, b, actors.WithSchemaRegistry(cl))
	var handled atomic.Int64
	err := actors.Consume(rt, "payments", "ledger", func(_ context.Context, m actors.Message[order]) error {
		handled.Add(1)
		return nil
	}, actors.WithSchema(s), actors.MaxRetries(1), actors.Backoff(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	// Many more lookups than MaxRetries allows attempts: the wait is not
	// an attempt.
	actortest.Eventually(t, actortest.Timeout, "the consumer to try the registry 4 times", func() bool { return down.n.Load() >= 4 })
	if h := handled.Load(); h != 0 {
		t.Fatalf("%d records handled with the registry down", h)
	}
	if dl := recordsIn(t, b, "payments.dlq"); dl != 0 {
		t.Fatalf("%d records dead-lettered while the registry was down", dl)
	}
	down.ln.Close()
	back, err := registry.Start(registry.Config{Listen: addr, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { back.Close() })
	actortest.WaitCommittedToEnd(t, b, "ledger", "payments")
	if h := handled.Load(); h != n {
		t.Errorf("handled %d records after the registry came back, want %d", h, n)
	}
	if dl := recordsIn(t, b, "payments.dlq"); dl != 0 {
		t.Errorf("%d records dead-lettered", dl)
	}
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
	var total int64
	for _, end := range actortest.EndOffsets(t, c, topic) {
		total += end
	}
	return total
}

// A producer registers under its registry client's subject strategy.
func TestProducerUsesSubjectStrategy(t *testing.T) {
	t.Parallel()
	b := actortest.Broker(t)
	reg := start(t, "")
	s, _ := schema.For[order]()
	for _, st := range []schema.SubjectStrategy{schema.RecordName, schema.TopicRecordName} {
		rt := actortest.Runtime(t, b, actors.WithSchemaRegistry(srClient(t, reg.URL(), schema.RegistryConfig{Strategy: st})))
		actortest.Start(t, rt)
		publish(t, rt, "invoices", 1)
		want, _ := st.Subject("invoices", s, false)
		subjects, err := client(t, reg.URL()).Subjects(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(subjects, want) {
			t.Errorf("%s: subjects %v, want %s among them", st, subjects, want)
		}
	}
}
