package handler_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// startBroker runs an embedded broker over TCP for one test.
func startBroker(t *testing.T) *broker.Broker {
	t.Helper()
	return actortest.Broker(t)
}

// newRuntime builds a runtime on the broker b (short commit interval and
// drain timeout, errors logged only), stopped at cleanup.
func newRuntime(t *testing.T, b actortest.Cluster) *actors.Runtime {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return actortest.Runtime(t, b, actors.WithLogger(quiet))
}

// createTopic creates a one-partition topic: the runtime's producer does
// not create topics on use.
func createTopic(t *testing.T, b actortest.Cluster, topic string) {
	actortest.CreateTopic(t, b, topic, 1)
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
var eventually = actortest.Eventually
