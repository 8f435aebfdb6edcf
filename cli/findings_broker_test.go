package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/broker"
)

// refusesHugeTopics fails the test unless the broker at addr refuses a
// topic of a billion partitions. It asks with ValidateOnly, which a broker
// without the limit answers without building the topic, so that the CLI
// run after it cannot make this process build one.
func refusesHugeTopics(t *testing.T, addr string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.ValidateOnly = true
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "huge", 1_000_000_000, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("validate-only CreateTopics: %v", err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode == 0 {
		t.Fatalf("the broker accepts a topic of 1e9 partitions (validate only): not running the CLI against it")
	}
}

func assertNoSASLHint(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "SASL missing") || strings.Contains(stderr, "requires SASL") {
		t.Errorf("stderr %q: a SASL hint, but the broker does not require SASL", stderr)
	}
}

// TestTopicsCreateRefusedByBroker (issue 21.7): `topics create huge
// --partitions 1000000000` used to kill the embedded broker (out of
// memory) and print the client's "is SASL missing?"; now the broker
// refuses it and the CLI prints one line with its code and message.
func TestTopicsCreateRefusedByBroker(t *testing.T) {
	addr := topicsBroker(t)
	refusesHugeTopics(t, addr)

	code, _, stderr := runTopics(t, "topics", "create", "huge", "--partitions", "1000000000", "--brokers", addr)
	t.Logf("stderr: %s", stderr)
	assertOneLineError(t, code, stderr, `"huge"`, "INVALID_PARTITIONS", "at most 10000 partitions per topic")
	assertNoSASLHint(t, stderr)

	code, _, stderr = runTopics(t, "topics", "create", "replicated", "--replication-factor", "3", "--brokers", addr)
	assertOneLineError(t, code, stderr, `"replicated"`, "INVALID_REPLICATION_FACTOR", "replication factor 3 is larger than the 1 broker")
	assertNoSASLHint(t, stderr)

	// The broker is still there.
	if out := mustRun(t, "topics", "create", "fine", "--partitions", "3", "--brokers", addr); !strings.Contains(out, `created topic "fine"`) {
		t.Fatalf("topics create fine: %q", out)
	}
}

// TestTopicsClosedConnectionHint: a broker that closes the connection at a
// request without answering, and does not require SASL, gets no SASL hint
// (the client's guess); one that requires SASL does.
func TestTopicsClosedConnectionHint(t *testing.T) {
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	b.Cluster().ControlKey(kmsg.CreateTopics.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		b.Cluster().KeepControl()
		return nil, errors.New("dropped by the test"), true // kfake closes the connection
	})
	code, _, stderr := runTopics(t, "topics", "create", "dropped", "--brokers", b.Addr())
	t.Logf("stderr: %s", stderr)
	assertOneLineError(t, code, stderr, "topics create dropped", "closed the connection without answering", "does not require SASL")
	assertNoSASLHint(t, stderr)

	sb, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Security: broker.Security{SASLMechanism: broker.SASLScramSHA256, User: "admin", Password: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	code, _, stderr = runTopics(t, "topics", "create", "orders", "--brokers", sb.Addr())
	t.Logf("stderr: %s", stderr)
	assertOneLineError(t, code, stderr, "requires SASL authentication", "kafka.sasl is not set")
}
