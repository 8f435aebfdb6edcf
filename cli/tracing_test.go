package cli

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/actord/actord/actortest"
)

// otlpCollector is an OTLP/HTTP trace endpoint served by the test: it
// decodes every export request and keeps the spans by name.
type otlpCollector struct {
	mu    sync.Mutex
	paths []string
	spans map[string][]otlpSpan
}

type otlpSpan struct {
	traceID, spanID, parentID, service string
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths = append(c.paths, r.URL.Path)
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans[s.Name] = append(c.spans[s.Name], otlpSpan{
					traceID: hex.EncodeToString(s.TraceId), spanID: hex.EncodeToString(s.SpanId),
					parentID: hex.EncodeToString(s.ParentSpanId), service: service,
				})
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Write(b)
}

func (c *otlpCollector) named(name string) []otlpSpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]otlpSpan(nil), c.spans[name]...)
}

// `actord start` with tracing.exporter otlp sends its spans to the
// collector at tracing.endpoint: a record produced with a trace context
// shows up as a receive span under the producer's span and a process span
// under that, in the producer's trace, from service "billing"; what is
// still batched at SIGTERM is sent before the exit.
func TestStartExportsSpansOverOTLP(t *testing.T) {
	col := &otlpCollector{spans: map[string][]otlpSpan{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	addr := startTestBroker(t)
	actortest.CreateTopic(t, actortest.At(addr), "orders", 1)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`service: billing
kafka:
  bootstrap_servers: `+addr+`
log:
  level: warn
http:
  listen: ""
runtime:
  commit_interval: 100ms
tracing:
  exporter: otlp
  endpoint: `+srv.URL+`
consumers:
  - topic: orders
    group: billing
    handler:
      log: {file: `+filepath.Join(dir, "out.jsonl")+`}
`), 0o644)
	cmd := exec.Command(actordBinary(t), "start", "--config", cfgFile)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	actortest.Produce(t, actortest.At(addr), "orders", &kgo.Record{Value: []byte("order"),
		Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-" + traceID + "-" + parentID + "-01")}}})
	waitFor(t, 30*time.Second, "the record handled and committed", func() bool {
		return actortest.CommittedToEnd(t, actortest.At(addr), "billing", "orders")
	})
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("actord start exited with %v:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("actord start did not stop on SIGTERM:\n%s", out.String())
	}

	receive, process := col.named("orders receive"), col.named("orders process")
	if len(receive) != 1 || len(process) != 1 {
		col.mu.Lock()
		defer col.mu.Unlock()
		t.Fatalf("collector got spans %v, want one orders receive and one orders process", col.spans)
	}
	if r := receive[0]; r.traceID != traceID || r.parentID != parentID || r.service != "billing" {
		t.Errorf("receive span %+v, want trace %s, parent %s, service billing", r, traceID, parentID)
	}
	if p := process[0]; p.traceID != traceID || p.parentID != receive[0].spanID {
		t.Errorf("process span %+v, want trace %s under the receive span %s", p, traceID, receive[0].spanID)
	}
	col.mu.Lock()
	for _, p := range col.paths {
		if p != "/v1/traces" {
			t.Errorf("export POSTed to %q, want /v1/traces", p)
		}
	}
	col.mu.Unlock()
	if s := out.String(); strings.Contains(s, "goroutine ") {
		t.Errorf("output has a stack trace:\n%s", s)
	}
}
