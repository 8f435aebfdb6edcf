package handler_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

// The http handler with batch: {max, wait} POSTs arrays of at most max
// records, in offset order. The endpoint refuses (400) any batch holding
// the poison record, and answers {"failed": [i]} for the record it cannot
// take: exactly those two are dead-lettered (with the status and with the
// endpoint's error), every other record is handled once, in order.
func TestHTTPBatch(t *testing.T) {
	b := startBroker(t)
	createTopic(t, b, "orders")
	var (
		mu      sync.Mutex
		handled []string
		sizes   []int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var recs []handler.Record
		if err := json.Unmarshal(body, &recs); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not a JSON array of records", http.StatusBadRequest)
			return
		}
		if n, _ := strconv.Atoi(r.Header.Get("X-Actord-Count")); n != len(recs) {
			http.Error(w, "X-Actord-Count disagrees", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(recs))
		var failed []int
		for i, rec := range recs {
			switch rec.Value {
			case "poison":
				http.Error(w, "poison in the batch", http.StatusBadRequest)
				return
			case "fail-me":
				failed = append(failed, i)
			}
		}
		for i, rec := range recs {
			if !slices.Contains(failed, i) {
				handled = append(handled, rec.Value.(string))
			}
		}
		if len(failed) > 0 {
			json.NewEncoder(w).Encode(map[string]any{"failed": failed, "error": "no such customer"})
		}
	}))
	t.Cleanup(srv.Close)

	const n = 300
	recs := make([]*kgo.Record, n)
	var want []string
	for i := range recs {
		v := strconv.Itoa(i)
		switch i {
		case 120:
			v = "poison"
		case 210:
			v = "fail-me"
		default:
			want = append(want, v)
		}
		recs[i] = &kgo.Record{Value: []byte(v)}
	}
	actortest.Produce(t, b, "orders", recs...)

	rt := newRuntime(t, b)
	fn, batching, err := handler.NewHTTPBatch(config.HTTPHandler{URL: srv.URL, Timeout: 5 * time.Second,
		Batch: &config.Batch{Max: 50, Wait: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := actors.ConsumeBatch(rt, "orders", "batcher", batching, fn, actors.MaxRetries(1), actors.Backoff(time.Millisecond, 5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	dead := actortest.ReadTopic(t, b, "orders.dlq", 2)
	actortest.WaitCommittedToEnd(t, b, "batcher", "orders")

	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(handled, want) {
		t.Errorf("handled %d records (first %q), want the %d others once each, in order", len(handled), handled[:min(len(handled), 5)], len(want))
	}
	if m := slices.Max(sizes); m > 50 {
		t.Errorf("a batch of %d records, want at most 50", m)
	}
	errs := map[string]string{}
	for _, r := range dead {
		for _, h := range r.Headers {
			if h.Key == actors.HeaderDLQError {
				errs[string(r.Value)] = string(h.Value)
			}
		}
	}
	if !strings.Contains(errs["poison"], "400 Bad Request: poison in the batch") {
		t.Errorf("poison dead-lettered with %q, want the 400 and its reason", errs["poison"])
	}
	if !strings.Contains(errs["fail-me"], "no such customer") {
		t.Errorf("fail-me dead-lettered with %q, want the endpoint's error", errs["fail-me"])
	}
}
