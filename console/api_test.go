package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/console"
	"github.com/actord/actord/schema"
)

// TestAPIStatusMatchesTheBroker: GET /api/status lists both groups, the
// partitions this process owns with the lag the broker reports, and the
// counters of what was handled and dead-lettered; GET /api/deadletters
// and /api/topics show the dead letter and the topics' end offsets.
func TestAPIStatusMatchesTheBroker(t *testing.T) {
	s := newShop(t)
	s.orders(t, 1, 9)
	actortest.Produce(t, s.b, "orders", actortest.Value("poison"))
	actortest.Produce(t, s.b, "audit", actortest.Value("a1"), actortest.Value("a2"), actortest.Value("a3"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, s.b, "billing", "orders")

	var st console.Status
	actortest.Eventually(t, 20*time.Second, "the status to show billing done and auditors 3 behind", func() bool {
		st = console.Status{}
		if getJSON(t, s, "/api/status", &st) != http.StatusOK {
			return false
		}
		billing, auditors := find(st, "billing", "orders"), find(st, "auditors", "audit")
		return billing != nil && auditors != nil && billing.Counts.Handled == 9 && billing.Counts.DeadLettered == 1 &&
			len(billing.Partitions) == 2 && len(auditors.Partitions) == 1 &&
			auditors.Partitions[0].Lag == 3 && billing.Partitions[0].Lag == 0 && billing.Partitions[1].Lag == 0
	})
	if st.Service != "shop" || st.Admin {
		t.Errorf("service %q admin %v, want shop and false", st.Service, st.Admin)
	}
	want := brokerLag(t, s, "auditors", "audit")
	a := find(st, "auditors", "audit").Partitions[0]
	if a.Lag != want[0] || a.Committed != -1 || a.End != 3 || a.State != console.StateRunning || a.InFlight != 3 {
		t.Errorf("auditors partition %+v, broker lag %v: want lag 3, committed -1, end 3, running, 3 in flight", a, want)
	}
	if a.LagMs < 0 {
		t.Errorf("auditors lag in time %d ms, want known (the oldest record's age)", a.LagMs)
	}
	if b := find(st, "billing", "orders"); b.DeadLetterTopic != "orders.dlq" || b.Ordering != "partition" {
		t.Errorf("billing: dead-letter topic %q ordering %q", b.DeadLetterTopic, b.Ordering)
	}

	var dl []console.DeadLetterTopic
	getJSON(t, s, "/api/deadletters", &dl)
	if len(dl) != 2 || dl[1].Topic != "orders.dlq" || dl[1].Records != 1 || !dl[1].Exists || dl[0].Topic != "audit.dlq" || dl[0].Exists {
		t.Errorf("dead-letter topics %+v, want audit.dlq (not created by looking at it) and orders.dlq (1)", dl)
	}
	var letters console.Letters
	getJSON(t, s, "/api/deadletters/orders.dlq", &letters)
	if len(letters.Letters) != 1 || letters.Letters[0].Error != poisonError || letters.Letters[0].Value.Text != "poison" ||
		letters.Letters[0].Attempts != 1 || letters.Letters[0].Group != "billing" || !strings.HasPrefix(letters.Letters[0].Source, "orders/") {
		t.Errorf("letters %+v", letters)
	}
	if code := getJSON(t, s, "/api/deadletters/orders", nil); code != http.StatusNotFound {
		t.Errorf("GET /api/deadletters/orders (not a dead-letter topic): %d, want 404", code)
	}

	var tops []console.TopicInfo
	getJSON(t, s, "/api/topics", &tops)
	got := map[string]int64{}
	for _, ti := range tops {
		got[ti.Topic] = ti.Records
	}
	if got["orders"] != 10 || got["audit"] != 3 || got["orders.dlq"] != 1 {
		t.Errorf("topics' records %v, want orders 10, audit 3, orders.dlq 1", got)
	}

	var hist []console.Series
	getJSON(t, s, "/api/history", &hist)
	if len(hist) != 2 || len(hist[0].Points) == 0 {
		t.Errorf("history %+v, want a series per consumer with points", hist)
	}
}

// TestActionsOffByDefault: without an admin token every POST is refused
// and nothing is replayed.
func TestActionsOffByDefault(t *testing.T) {
	s := newShop(t)
	actortest.Produce(t, s.b, "orders", actortest.Value("poison"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 1)
	for _, path := range []string{"/api/deadletters/orders.dlq/replay", "/api/consumers/pause"} {
		code, body := postJSON(t, s, path, `{"group":"billing","topic":"orders"}`, map[string]string{"Authorization": "Bearer " + testToken})
		if code != http.StatusForbidden || !strings.Contains(body, "admin actions are off") {
			t.Errorf("POST %s: %d %s, want 403 naming admin off", path, code, body)
		}
	}
	var st console.Status
	getJSON(t, s, "/api/status", &st)
	if c := find(st, "billing", "orders"); c == nil || c.Paused {
		t.Errorf("billing after a refused pause: %+v", c)
	}
}

func find(st console.Status, group, topic string) *console.Consumer {
	for _, g := range st.Groups {
		for i, c := range g.Consumers {
			if g.Name == group && c.Topic == topic {
				return &g.Consumers[i]
			}
		}
	}
	return nil
}

// TestAPIListsEventHandlersDeadLetterTopics: the dead letters of event
// handlers (each On handler's own topic) are in the dead-letter view too,
// with the handler that gave up.
func TestAPIListsEventHandlersDeadLetterTopics(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.ServiceName("shop"), actors.ServeMetrics("127.0.0.1:0"))
	if err := actors.On(rt, "user.registered", func(context.Context, actors.Message[map[string]any]) error {
		return actors.Permanent(errors.New("mailbox full"))
	}, actors.DeadLetterTopic("welcome.dlq")); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	if _, err := actors.Emit(context.Background(), rt, "user.registered", map[string]any{"user_id": 1}); err != nil {
		t.Fatal(err)
	}
	actortest.WaitDeadLetters(t, b, "welcome.dlq", 1)
	s := &shop{b: b, rt: rt, url: "http://" + rt.MetricsAddr()}
	var dl []console.DeadLetterTopic
	actortest.Eventually(t, 20*time.Second, "welcome.dlq in the dead-letter topics", func() bool {
		dl = nil
		getJSON(t, s, "/api/deadletters", &dl)
		for _, d := range dl {
			if d.Topic == "welcome.dlq" && d.Records == 1 && len(d.Consumers) == 1 && d.Consumers[0] == "shop/events (event handlers)" {
				return true
			}
		}
		return false
	})
	var letters console.Letters
	getJSON(t, s, "/api/deadletters/welcome.dlq", &letters)
	if len(letters.Letters) != 1 || letters.Letters[0].Error != "mailbox full" || letters.Letters[0].Handler == "" {
		t.Errorf("letters %+v, want the handler's dead letter", letters)
	}
}

// TestAPIDecodesAvroDeadLetters: a dead letter whose value is Avro is
// shown decoded with the consumer's schema, beside its raw preview.
func TestAPIDecodesAvroDeadLetters(t *testing.T) {
	type payment struct {
		OrderID int64   `avro:"order_id"`
		Amount  float64 `avro:"amount"`
	}
	sch, err := schema.For[payment]()
	if err != nil {
		t.Fatal(err)
	}
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"))
	if err := actors.Consume(rt, "payments", "ledger", func(_ context.Context, m actors.Message[payment]) error {
		return actors.Permanent(errors.New("ledger closed"))
	}, actors.WithSchema(sch)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[payment](rt, "payments", actors.WithSchema(sch))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(context.Background(), payment{OrderID: 42, Amount: 9.5}); err != nil {
		t.Fatal(err)
	}
	actortest.WaitDeadLetters(t, b, "payments.dlq", 1)
	s := &shop{b: b, rt: rt, url: "http://" + rt.MetricsAddr()}
	var letters console.Letters
	actortest.Eventually(t, 20*time.Second, "payments.dlq to be listed", func() bool {
		letters = console.Letters{}
		return getJSON(t, s, "/api/deadletters/payments.dlq", &letters) == http.StatusOK && len(letters.Letters) == 1
	})
	v := letters.Letters[0].Value
	if v.Decoded != `{"amount":9.5,"order_id":42}` || !v.Hex {
		t.Errorf("value %+v, want the raw bytes in hex and the record decoded", v)
	}
}

// TestAPIShowsTheCircuitOpen: while the downstream is unavailable the
// consumer's circuit is open and its partitions say so; once a probe
// succeeds it is closed and they run again.
func TestAPIShowsTheCircuitOpen(t *testing.T) {
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"))
	var down atomic.Bool
	down.Store(true)
	if err := actors.Consume(rt, "mail", "mailer", func(context.Context, actors.Message[string]) error {
		if down.Load() {
			return actors.Unavailable(errors.New("smtp relay refuses connections"))
		}
		return nil
	}, actors.WithCircuit(actors.CircuitSettings{ProbeInitial: 50 * time.Millisecond, ProbeMax: 100 * time.Millisecond})); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "mail", actortest.Value("hello"))
	s := &shop{b: b, rt: rt, url: "http://" + rt.MetricsAddr()}
	state := func() (string, string) {
		var st console.Status
		getJSON(t, s, "/api/status", &st)
		c := find(st, "mailer", "mail")
		if c == nil || len(c.Partitions) == 0 {
			return "", ""
		}
		return c.Circuit, c.Partitions[0].State
	}
	actortest.Eventually(t, 20*time.Second, "the circuit open in the status", func() bool {
		c, p := state()
		return c == "open" && p == console.StateCircuitOpen
	})
	down.Store(false)
	actortest.Eventually(t, 20*time.Second, "the circuit closed again", func() bool {
		c, p := state()
		return c == "closed" && p == console.StateRunning
	})
	actortest.WaitCommittedToEnd(t, b, "mailer", "mail")
}

// TestActionsRefuseBadInput: with admin on, a bad request is one 4xx
// naming what is wrong, and nothing is produced.
func TestActionsRefuseBadInput(t *testing.T) {
	s := newShop(t, actors.ConsoleAdmin(testToken))
	actortest.Produce(t, s.b, "orders", actortest.Value("poison"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 1)
	auth := map[string]string{"Authorization": "Bearer " + testToken}
	cases := []struct {
		path, body string
		status     int
		want       string
	}{
		{"/api/consumers/pause", `{"group":"nope","topic":"orders"}`, http.StatusBadRequest, `no consumer group "nope"`},
		{"/api/consumers/pause", `{"group":"billing","topic":"audit"}`, http.StatusBadRequest, `group "billing" has no consumer of topic "audit"`},
		{"/api/consumers/pause", `{"group":"billing","topic":"orders","force":true}`, http.StatusBadRequest, `unknown field "force"`},
		{"/api/deadletters/orders/replay", `{}`, http.StatusNotFound, `"orders" is not a dead-letter topic`},
		{"/api/deadletters/orders.dlq/replay", `{"to":"orders.dlq"}`, http.StatusBadRequest, "is the dead-letter topic itself"},
		{"/api/deadletters/orders.dlq/replay", `{"to":"bad topic"}`, http.StatusBadRequest, "to: "},
		{"/api/deadletters/orders.dlq/replay", `{"offsets":[{"partition":0,"offset":99}]}`, http.StatusNotFound, "has no record at partition 0 offset 99"},
	}
	for _, c := range cases {
		code, body := postJSON(t, s, c.path, c.body, auth)
		var answer struct{ Error string }
		json.Unmarshal([]byte(body), &answer)
		if code != c.status || !strings.Contains(answer.Error, c.want) {
			t.Errorf("POST %s %s: %d %s, want %d naming %q", c.path, c.body, code, body, c.status, c.want)
		}
	}
	if code := getJSON(t, s, "/api/deadletters/orders.dlq?limit=0", nil); code != http.StatusBadRequest {
		t.Errorf("limit=0: %d, want 400", code)
	}

	// A record in the dead-letter topic that is not a dead letter has no
	// destination: 422 naming the header, nothing produced.
	before := actortest.EndOffsets(t, s.b, "orders.dlq")
	actortest.Produce(t, s.b, "orders.dlq", actortest.Value("not a dead letter"))
	after := actortest.EndOffsets(t, s.b, "orders.dlq")
	var junk string
	for p, e := range after {
		if e > before[p] {
			junk = fmt.Sprintf(`{"offsets":[{"partition":%d,"offset":%d}]}`, p, e-1)
		}
	}
	code, body := postJSON(t, s, "/api/deadletters/orders.dlq/replay", junk, auth)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "has no actord.dlq.topic header") {
		t.Errorf("replay of a record that is not a dead letter: %d %s, want 422 naming the header", code, body)
	}
	if end := actortest.EndOffsets(t, s.b, "orders"); end[0]+end[1] != 1 {
		t.Errorf("orders ends at %v after refused replays, want its 1 record", end)
	}
}

// TestAPIShowsFailingFetches: a partition whose fetches the broker keeps
// refusing is failing, with the error /readyz names; once they are
// served again it runs.
func TestAPIShowsFailingFetches(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "refused", 1)
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
	// Every fetch names every partition, so the control answers them all.
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"), actors.KafkaOptions(kgo.DisableFetchSessions()))
	var handled atomic.Int64
	if err := actors.Consume(rt, "refused", "reader", func(context.Context, actors.Message[string]) error {
		handled.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Produce(t, b, "refused", actortest.Value("one"))
	actortest.Eventually(t, 20*time.Second, "the first record", func() bool { return handled.Load() == 1 })
	s := &shop{b: b, rt: rt, url: "http://" + rt.MetricsAddr()}
	partition := func() console.Partition {
		var st console.Status
		getJSON(t, s, "/api/status", &st)
		if c := find(st, "reader", "refused"); c != nil && len(c.Partitions) == 1 {
			return c.Partitions[0]
		}
		return console.Partition{}
	}
	refuse.Store(true)
	actortest.Eventually(t, 20*time.Second, "the partition failing, with the broker's error", func() bool {
		p := partition()
		return p.State == console.StateFailing && strings.Contains(p.Error, "failing to fetch") && strings.Contains(p.Error, "TOPIC_AUTHORIZATION_FAILED")
	})
	refuse.Store(false)
	actortest.Produce(t, b, "refused", actortest.Value("two"))
	actortest.Eventually(t, 30*time.Second, "the partition running again", func() bool {
		p := partition()
		return handled.Load() == 2 && p.State == console.StateRunning && p.Error == ""
	})
}
