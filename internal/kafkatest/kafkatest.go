// Package kafkatest is what actord's own tests share: an embedded broker
// per test over TCP, topic creation, the committed and end offsets a test
// asserts on, polling a condition with a deadline, and the actord binary
// built once for the tests that run it as a process.
package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/broker"
)

// Broker starts the embedded broker for one test (on a free loopback port
// unless cfg.Listen says otherwise) and closes it at cleanup.
func Broker(t testing.TB, cfg broker.Config) *broker.Broker {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Client is a franz-go client of the broker at addr; the caller closes it.
func Client(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// CreateTopic creates topic with partitions partitions and one replica.
func CreateTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	cl := Client(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// Committed returns the group's committed offsets per partition of topic,
// as the broker reports them; empty when the group has committed nothing.
func Committed(t testing.TB, addr, group, topic string) map[int32]int64 {
	t.Helper()
	cl := Client(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[int32]int64{}
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// EndOffsets returns the end offset of each partition of topic.
func EndOffsets(t testing.TB, addr, topic string) map[int32]int64 {
	t.Helper()
	cl := Client(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// Eventually polls cond until it holds, failing the test when d passes
// first: tests wait for conditions, never for time.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

// ActordBinary builds cmd/actord once per test binary (without the race
// detector: the processes under test run as users run them) and returns
// its path. Call RemoveBinaries from TestMain.
func ActordBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "actord-test-bin-")
		if buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("building actord: %w", err)
			return
		}
		out, err := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "actord"),
			"github.com/actord/actord/cmd/actord").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/actord: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "actord")
}

// RemoveBinaries deletes what ActordBinary built.
func RemoveBinaries() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}
