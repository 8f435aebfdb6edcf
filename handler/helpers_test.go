package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// startBroker runs an embedded broker over TCP for one test.
func startBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// newRuntime builds a runtime on the broker at addr, stopped at cleanup.
func newRuntime(t *testing.T, addr string) *actors.Runtime {
	t.Helper()
	cfg := config.Default()
	cfg.Kafka.BootstrapServers = addr
	cfg.Runtime.CommitInterval = 100 * time.Millisecond
	cfg.Runtime.DrainTimeout = 5 * time.Second
	cfg.Log.Level = "error"
	rt, err := actors.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := rt.Stop(ctx); err != nil {
			t.Errorf("stopping runtime: %v", err)
		}
	})
	return rt
}

// createTopic creates a one-partition topic: the runtime's producer does
// not create topics on use.
func createTopic(ctx context.Context, t *testing.T, addr, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// newHandler is handler.New that fails the test on error.
func newHandler(t *testing.T, h config.Handler, rt *actors.Runtime) handler.Func {
	t.Helper()
	fn, err := handler.New(h, rt, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// writeScript writes an executable /bin/sh script called name into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// message is a record as a consumer would hand it to the handler.
func message() actors.Message[[]byte] {
	return actors.Message[[]byte]{
		Topic:     "orders",
		Partition: 2,
		Offset:    42,
		Key:       []byte("customer-7"),
		Headers: []kgo.RecordHeader{
			{Key: "trace", Value: []byte("abc")},
			{Key: "source", Value: []byte("cli")},
		},
		Timestamp: time.Date(2024, 5, 1, 14, 0, 0, 123000000, time.FixedZone("CEST", 2*3600)),
		Attempt:   1,
		Raw:       []byte(`{"id":1}`),
		Value:     []byte(`{"id":1}`),
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}
