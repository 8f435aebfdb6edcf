// Package actortest is what a service's own tests import to test its
// consumers, producers and event handlers the way actord tests itself:
// against a real Kafka-protocol broker over TCP, never a mock of the
// client. Each test gets its own embedded broker (franz-go's kfake) on a
// free loopback port, a runtime pointed at it with test-friendly settings
// (short commit interval and drain timeout, no metrics listener), and
// waits with deadlines for what a test asserts: a group's committed
// offsets, the dead letters of a topic, the records a topic holds.
//
//	func TestOrders(t *testing.T) {
//		b := actortest.Broker(t)
//		rt := actortest.Runtime(t, b)
//		// declare the service's consumers on rt, then:
//		actortest.Start(t, rt)
//		actortest.Produce(t, b, "orders", actortest.Value(`{"order_id":1}`))
//		actortest.WaitCommittedToEnd(t, b, "notifications", "orders")
//	}
//
// It links the embedded broker, so it belongs in tests only: a service's
// binary never imports it.
package actortest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
)

// Timeout bounds every wait of this package unless the call takes its own.
const Timeout = 30 * time.Second

// The runtime settings Runtime applies before the test's own options.
const (
	// CommitInterval is short so that committed offsets show quickly.
	CommitInterval = 100 * time.Millisecond
	// DrainTimeout bounds a test runtime's stop.
	DrainTimeout = 5 * time.Second
)

// BrokerOption tunes the embedded broker of one test.
type BrokerOption func(*broker.Config)

// Partitions sets the partition count of topics the broker creates on
// first use (and of topics created without a count). Default 1.
func Partitions(n int) BrokerOption { return func(c *broker.Config) { c.DefaultPartitions = n } }

// NoAutoCreate makes the broker refuse records and consumers of topics
// nobody created, as a production cluster with auto-creation off does.
func NoAutoCreate() BrokerOption { return func(c *broker.Config) { c.AutoCreateTopics = false } }

// DataDir keeps the broker's state in dir across a Restart.
func DataDir(dir string) BrokerOption { return func(c *broker.Config) { c.DataDir = dir } }

// Broker starts an embedded broker for t on a free 127.0.0.1 port, with
// topic auto-creation on, and closes it when t ends.
func Broker(t testing.TB, opts ...BrokerOption) *broker.Broker {
	t.Helper()
	cfg := broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DefaultPartitions: 1}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("actortest: start broker: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Logger is the logger of test runtimes: warnings and errors on stderr,
// everything with ACTORD_TEST_DEBUG set.
func Logger() *slog.Logger {
	lvl := slog.LevelWarn
	if os.Getenv("ACTORD_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// Cluster is where a test's records live: an embedded broker (Broker), or
// any cluster by address (At).
type Cluster interface{ Addr() string }

// At is the cluster at addr (host:port), for tests against a broker they
// did not start.
func At(addr string) Cluster { return address(addr) }

type address string

func (a address) Addr() string { return string(a) }

// Runtime builds a runtime pointed at b (CommitInterval, DrainTimeout,
// Logger, then opts, which win) and stops it when t ends, failing t if the
// stop fails.
func Runtime(t testing.TB, b Cluster, opts ...actors.RuntimeOption) *actors.Runtime {
	t.Helper()
	base := []actors.RuntimeOption{
		actors.Brokers(b.Addr()),
		actors.CommitInterval(CommitInterval),
		actors.DrainTimeout(DrainTimeout),
		actors.WithLogger(Logger()),
	}
	rt, err := actors.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("actortest: actors.New: %v", err)
	}
	t.Cleanup(func() { Stop(t, rt) })
	return rt
}

// Start starts rt, failing t on error. Declare consumers and event
// handlers first.
func Start(t testing.TB, rt *actors.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("actortest: start runtime: %v", err)
	}
}

// Stop stops rt (drain, commit, leave) within DrainTimeout and a margin,
// failing t if it errs. Stopping twice is harmless.
func Stop(t testing.TB, rt *actors.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DrainTimeout+10*time.Second)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.Errorf("actortest: stop runtime: %v", err)
	}
}

// Eventually polls cond until it holds, failing t when d passes first:
// tests wait for conditions, never for time.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("actortest: timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // the polling interval, not a wait for an outcome
	}
}

// Client is a franz-go client of b for the test's own reads and writes,
// closed when t ends.
func Client(t testing.TB, b Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl := shortClient(t, b, opts...)
	t.Cleanup(cl.Close)
	return cl
}
