package handler_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/internal/kafkatest"
)

// startBroker runs an embedded broker over TCP for one test.
func startBroker(t *testing.T) *broker.Broker {
	t.Helper()
	return kafkatest.Broker(t, broker.Config{AutoCreateTopics: true, DefaultPartitions: 1})
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
func createTopic(t *testing.T, addr, topic string) { kafkatest.CreateTopic(t, addr, topic, 1) }

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
var eventually = kafkatest.Eventually
