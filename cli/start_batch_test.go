package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
)

// `actord start` with an http handler in batches: the endpoint gets JSON
// arrays of at most max records, every record once, the record it names in
// {"failed": [...]} is dead-lettered with its error, and SIGTERM commits
// to the end.
func TestStartHTTPBatch(t *testing.T) {
	addr := startTestBroker(t)
	var (
		mu    sync.Mutex
		got   []string
		sizes []int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var recs []struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(body, &recs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sizes = append(sizes, len(recs))
		var failed []int
		for i, rec := range recs {
			if rec.Value == "fail-me" {
				failed = append(failed, i)
				continue
			}
			got = append(got, rec.Value)
		}
		if len(failed) > 0 {
			json.NewEncoder(w).Encode(map[string]any{"failed": failed, "error": "no such customer"})
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka:
  bootstrap_servers: `+addr+`
log:
  level: warn
http:
  listen: ""
runtime:
  commit_interval: 100ms
topics:
  - {name: orders, partitions: 1, replication_factor: 1}
consumers:
  - topic: orders
    group: billing
    max_retries: 1
    backoff: {initial: 10ms, max: 20ms}
    handler:
      http: {url: "`+srv.URL+`", batch: {max: 40, wait: 20ms}}
`), 0o644)
	d := startDaemon(t, "start", "--config", cfgFile)
	adm := kadm.NewClient(actortest.Client(t, actortest.At(addr)))
	waitFor(t, 20*time.Second, "orders created", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		td, err := adm.ListTopics(ctx, "orders")
		return err == nil && td.Has("orders")
	})
	const n = 200
	var recs []*kgo.Record
	for i := range n {
		v := fmt.Sprint("v", i)
		if i == 77 {
			v = "fail-me"
		}
		recs = append(recs, actortest.Value(v))
	}
	actortest.Produce(t, actortest.At(addr), "orders", recs...)
	dl := readOne(t, addr, "orders.dlq")
	if string(dl.Value) != "fail-me" || !strings.Contains(headerValue(dl, "actord.dlq.error"), "no such customer") {
		t.Errorf("dead letter %q, actord.dlq.error %q", dl.Value, headerValue(dl, "actord.dlq.error"))
	}
	waitFor(t, 20*time.Second, "every other record posted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= n-1
	})
	d.stop(t)
	if !actortest.CommittedToEnd(t, actortest.At(addr), "billing", "orders") {
		t.Errorf("not committed to the end")
	}
	mu.Lock()
	defer mu.Unlock()
	for i, v := range got {
		if want := fmt.Sprint("v", i+btoi(i >= 77)); v != want {
			t.Fatalf("record %d posted as %q, want %q: each once, in order", i, v, want)
		}
	}
	for _, s := range sizes {
		if s > 40 {
			t.Errorf("a batch of %d records, want at most 40", s)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
