package actors_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/kafkatest"
)

// startBroker runs an embedded broker over TCP for one test.
func startBroker(t *testing.T) *broker.Broker {
	t.Helper()
	return kafkatest.Broker(t, broker.Config{AutoCreateTopics: true, DefaultPartitions: 1})
}

// Shared with the other packages' tests.
var (
	createTopic = kafkatest.CreateTopic
	committed   = kafkatest.Committed
	endOffsets  = kafkatest.EndOffsets
	eventually  = kafkatest.Eventually
)

// committedToEnd reports whether group has committed every partition of
// topic up to its end offset.
func committedToEnd(t *testing.T, addr, group, topic string) bool {
	t.Helper()
	c := committed(t, addr, group, topic)
	for p, e := range endOffsets(t, addr, topic) {
		if c[p] != e {
			return false
		}
	}
	return true
}

func testConfig(addr string) config.Config {
	cfg := config.Default()
	cfg.Kafka.BootstrapServers = addr
	cfg.Runtime.CommitInterval = 100 * time.Millisecond
	cfg.Runtime.DrainTimeout = 5 * time.Second
	cfg.Log.Level = "warn"
	cfg.HTTP.Listen = ""
	return cfg
}

func testLogger() *slog.Logger {
	lvl := slog.LevelWarn
	if os.Getenv("ACTORD_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

func newRuntime(t *testing.T, addr string, mut ...func(*config.Config)) *actors.Runtime {
	t.Helper()
	cfg := testConfig(addr)
	for _, m := range mut {
		m(&cfg)
	}
	rt, err := actors.New(cfg, actors.WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopRuntime(t, rt) })
	return rt
}

func stopRuntime(t *testing.T, rt *actors.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// produce writes n records keyed "k<i % keys>" with value "i", spread by key.
func produce(t *testing.T, addr, topic string, n, keys int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var perr error
	var mu sync.Mutex
	for i := range n {
		wg.Add(1)
		r := &kgo.Record{Key: []byte("k" + strconv.Itoa(i%keys)), Value: []byte(strconv.Itoa(i))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if perr != nil {
		t.Fatal(perr)
	}
}

// counter counts handled values.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func newCounter() *counter { return &counter{seen: map[string]int{}} }

func (c *counter) add(v string) {
	c.mu.Lock()
	c.seen[v]++
	c.mu.Unlock()
}

func (c *counter) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *counter) dups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := 0
	for _, n := range c.seen {
		d += n - 1
	}
	return d
}

func (c *counter) missing(n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for i := range n {
		if c.seen[strconv.Itoa(i)] == 0 {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out
}
