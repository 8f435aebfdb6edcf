package actors_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
	"github.com/actord/actord/internal/kafkatest"
)

// counting is a consumer of topic in group on rt that counts each value
// it handles.
type counting struct {
	mu   sync.Mutex
	seen map[string]int
	n    atomic.Int64
}

func consumeCounting(t *testing.T, rt *actors.Runtime, topic, group string) *counting {
	t.Helper()
	c := &counting{seen: map[string]int{}}
	if err := actors.Consume(rt, topic, group, func(_ context.Context, m actors.Message[[]byte]) error {
		c.mu.Lock()
		c.seen[string(m.Value)]++
		c.mu.Unlock()
		c.n.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// logTo is a runtime logger (info and up) writing to buf.
func logTo(buf *kafkatest.LockedBuffer) actors.RuntimeOption {
	return actors.WithLogger(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
}

func lines(buf *kafkatest.LockedBuffer, msg string) int {
	return strings.Count(buf.String(), `msg="`+msg+`"`)
}

// A broker replaced by a new one on the same address without its data
// (so the topic, created again, has a new topic ID) used to stall the
// consumer for good while it logged every failed fetch (UNKNOWN_TOPIC_ID,
// 2.6 million lines a minute here). The group now subscribes to the topic
// afresh, handles every record of the new broker, and logs a few lines.
func TestReplacedBrokerIsConsumedAfresh(t *testing.T) {
	t.Parallel()
	const topic, group = "orders", "replaced"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b1, err := broker.Start(broker.Config{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	actortest.CreateTopic(t, b1, topic, 3)
	var logs kafkatest.LockedBuffer
	rt := actortest.Runtime(t, b1, logTo(&logs))
	c := consumeCounting(t, rt, topic, group)
	actortest.Start(t, rt)
	produce(t, b1, topic, 30, 10)
	actortest.Eventually(t, 30*time.Second, "the first broker's 30 records", func() bool { return c.n.Load() == 30 })

	b1.Close()
	b2, err := broker.Start(broker.Config{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b2.Close)
	actortest.CreateTopic(t, b2, topic, 3)
	produce(t, b2, topic, 300, 10)
	start := time.Now()
	actortest.Eventually(t, time.Minute, "the new broker's 300 records", func() bool { return c.n.Load() == 330 })
	took := time.Since(start)
	c.mu.Lock()
	for i := range 300 {
		// 0 to 29 were on both brokers.
		if k, want := c.seen[strconv.Itoa(i)], 1+btoi(i < 30); k != want {
			t.Errorf("value %d handled %d times, want %d", i, k, want)
		}
	}
	c.mu.Unlock()
	if n := lines(&logs, "topic has a new topic ID (deleted and recreated, or the broker replaced without its data): dropping its partitions without a commit and subscribing to it afresh"); n != 1 {
		t.Errorf("%d lines about the new topic ID, want 1", n)
	}
	all := strings.Count(logs.String(), "\n")
	t.Logf("recovered %v after the new broker's records were produced; %d log lines in all", took.Round(time.Millisecond), all)
	if all > 60 {
		t.Errorf("%d log lines for one replaced broker, want a few (each partition's repeated error once an interval):\n%s", all, logs.String())
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A topic deleted and recreated under a running consumer: the group
// subscribes to the new topic and handles all of its records, from its
// first offset (the offsets committed in the old topic mean nothing in the
// new one).
func TestRecreatedTopicIsConsumedAfresh(t *testing.T) {
	t.Parallel()
	const topic, group = "recreated", "recreated-g"
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, topic, 3)
	var logs kafkatest.LockedBuffer
	rt := actortest.Runtime(t, b, logTo(&logs))
	c := consumeCounting(t, rt, topic, group)
	actortest.Start(t, rt)
	produce(t, b, topic, 30, 10)
	actortest.WaitCommittedToEnd(t, b, group, topic)

	cl := actortest.Client(t, b)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	actortest.Eventually(t, 10*time.Second, "the topic to be gone", func() bool {
		td, err := adm.ListTopics(ctx, topic)
		return err == nil && !td.Has(topic)
	})
	actortest.CreateTopic(t, b, topic, 3)
	produce(t, b, topic, 300, 10)
	actortest.Eventually(t, time.Minute, "the recreated topic's 300 records", func() bool { return c.n.Load() >= 330 })
	actortest.WaitCommittedToEnd(t, b, group, topic)
	if got := c.n.Load(); got != 330 {
		t.Errorf("handled %d records, want 330 (30 of the old topic, 300 of the new)", got)
	}
	if all := strings.Count(logs.String(), "\n"); all > 60 {
		t.Errorf("%d log lines for one recreated topic, want a few:\n%s", all, logs.String())
	}
}

// A partition whose fetches keep failing is logged once (and then once an
// interval, with a count), and /readyz names it until it fetches again.
func TestFailingFetchesAreLoggedOnceAndMakeTheProcessUnready(t *testing.T) {
	const topic, group = "refused", "refused-g"
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, topic, 2)
	var refuse atomic.Bool
	b.Cluster().ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		b.Cluster().KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		fr := req.(*kmsg.FetchRequest)
		resp := fr.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range fr.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	var logs kafkatest.LockedBuffer
	rt := actortest.Runtime(t, b, logTo(&logs), actors.ServeMetrics("127.0.0.1:0"),
		// Every fetch names every partition: the control above answers
		// them all.
		actors.KafkaOptions(kgo.DisableFetchSessions()))
	c := consumeCounting(t, rt, topic, group)
	actortest.Start(t, rt)
	produce(t, b, topic, 20, 4)
	actortest.Eventually(t, 30*time.Second, "the first 20 records", func() bool { return c.n.Load() == 20 })
	ready := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return rt.Ready(ctx)
	}
	if err := ready(); err != nil {
		t.Fatalf("not ready before the fetches fail: %v", err)
	}

	refuse.Store(true)
	var why error
	actortest.Eventually(t, 20*time.Second, "Ready to name the failing partitions", func() bool {
		why = ready()
		return why != nil && strings.Contains(why.Error(), "refused/0 failing to fetch") &&
			strings.Contains(why.Error(), "refused/1 failing to fetch")
	})
	if !strings.Contains(why.Error(), "TOPIC_AUTHORIZATION_FAILED") {
		t.Errorf("Ready: %v, want the error named", why)
	}
	status, body := httpGet(t, "http://"+rt.MetricsAddr()+"/readyz")
	if status != 503 || !strings.Contains(body, "refused/1 failing to fetch") {
		t.Errorf("/readyz: %d %q, want 503 naming refused/1", status, body)
	}
	// The client retries as fast as it can; the log has one line a
	// partition (a repeat comes 10 s after the first at the earliest).
	if n := lines(&logs, "fetch error"); n != 2 {
		t.Errorf("%d fetch error lines, want 2 (one a partition):\n%s", n, logs.String())
	}

	refuse.Store(false)
	produce(t, b, topic, 20, 4)
	actortest.Eventually(t, 30*time.Second, "the next 20 records", func() bool { return c.n.Load() == 40 })
	actortest.Eventually(t, 10*time.Second, "Ready again", func() bool { return ready() == nil })
	if n := lines(&logs, "fetch recovered"); n != 2 {
		t.Errorf("%d fetch recovered lines, want 2:\n%s", n, logs.String())
	}
}

// httpGet is the status and body of a GET of url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
