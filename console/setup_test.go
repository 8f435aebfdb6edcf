package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
)

// testToken is the admin token of the shops that have admin on.
const testToken = "test-admin-token-0123456789"

// shop is the workload every console test looks at: group billing
// consumes orders (2 partitions) and dead-letters a value "poison" to
// orders.dlq at once (a permanent error); group auditors consumes audit
// (1 partition) and holds every record until the test ends, so its lag
// stays where the test put it.
type shop struct {
	b    *broker.Broker
	rt   *actors.Runtime
	url  string // http://host:port, the console's origin
	held chan struct{}
}

const poisonError = "card number missing"

func newShop(t *testing.T, opts ...actors.RuntimeOption) *shop {
	t.Helper()
	b := actortest.Broker(t, actortest.Partitions(2))
	actortest.CreateTopic(t, b, "orders", 2)
	actortest.CreateTopic(t, b, "audit", 1)
	s := &shop{b: b, held: make(chan struct{})}
	rt := actortest.Runtime(t, b, append([]actors.RuntimeOption{actors.ServiceName("shop"), actors.ServeMetrics("127.0.0.1:0")}, opts...)...)
	// Registered after the runtime's cleanup, so it runs before the stop.
	t.Cleanup(func() { close(s.held) })
	if err := actors.Consume(rt, "orders", "billing", func(ctx context.Context, m actors.Message[string]) error {
		if m.Value == "poison" {
			return actors.Permanent(errors.New(poisonError))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := actors.Consume(rt, "audit", "auditors", func(ctx context.Context, m actors.Message[string]) error {
		select {
		case <-s.held:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, actors.MaxRetries(0)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	s.rt = rt
	s.url = "http://" + rt.MetricsAddr()
	return s
}

// orders produces n plain orders to orders ("order-1"...), keyed so both
// partitions get some.
func (s *shop) orders(t *testing.T, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		actortest.Produce(t, s.b, "orders", actortest.KeyValue(fmt.Sprint("user-", i), fmt.Sprint("order-", i)))
	}
}

// brokerLag is group's lag per partition of topic as the broker reports
// it (end offset minus committed; minus the start offset without a
// commit), through kadm.
func brokerLag(t *testing.T, s *shop, group, topic string) map[int32]int64 {
	t.Helper()
	cl := actortest.Client(t, s.b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := kadm.NewClient(cl).Lag(ctx, group)
	if err != nil {
		t.Fatalf("lag of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, gl := range l[group].Lag[topic] {
		out[p] = gl.Lag
	}
	return out
}

// getJSON GETs path of the console into v and returns the status code.
func getJSON(t *testing.T, s *shop, path string, v any) int {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(s.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	if v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: decode: %v", path, err)
		}
	}
	return res.StatusCode
}

// postJSON POSTs body to path of the console with the given headers and
// returns the status code and the answer's text.
func postJSON(t *testing.T, s *shop, path, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 40 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
