package topics

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/broker"
)

// newAdmin starts an embedded broker and returns an Admin on it.
func newAdmin(t *testing.T) (*Admin, *broker.Broker) {
	t.Helper()
	return newAdminWith(t, broker.Config{Listen: "127.0.0.1:0", DefaultPartitions: 1})
}

func newAdminWith(t *testing.T, cfg broker.Config) (*Admin, *broker.Broker) {
	t.Helper()
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(b.Close)
	a, err := NewAdminFromOpts(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatalf("NewAdminFromOpts: %v", err)
	}
	t.Cleanup(a.Close)
	return a, b
}

// testCtx bounds one test's network calls.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
