package handler_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
)

// With tracing on, the built-in handlers pass the attempt's trace on: exec
// in TRACEPARENT, http in a traceparent header, forward in the forwarded
// record's traceparent (a publish span under the attempt's). Each names
// the process span of its own attempt as the parent, in the trace the
// producing service started.
func TestHandlersPassTheTraceOn(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	b := startBroker(t)
	createTopic(t, b, "traced")
	createTopic(t, b, "traced.out")
	rt := actortest.Runtime(t, b, actors.WithTracerProvider(tp), actors.WithLogger(actortest.Logger()))

	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	script := writeScript(t, dir, "handle.sh", `printf '%s' "$TRACEPARENT" > '`+envFile+`'`)
	var mu sync.Mutex
	var httpParent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		httpParent = r.Header.Get("traceparent")
		mu.Unlock()
	}))
	defer srv.Close()
	for group, h := range map[string]config.Handler{
		"exec":    {Exec: &config.ExecHandler{Command: []string{script}}},
		"http":    {HTTP: &config.HTTPHandler{URL: srv.URL, Timeout: 5 * time.Second}},
		"forward": {Forward: &config.ForwardHandler{Topic: "traced.out"}},
	} {
		if err := actors.Consume[[]byte](rt, "traced", group, newHandler(t, h, rt)); err != nil {
			t.Fatal(err)
		}
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[string](rt, "traced")
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := tp.Tracer("test").Start(context.Background(), "order placed")
	if _, err := p.Publish(ctx, "order"); err != nil {
		t.Fatal(err)
	}
	root.End()
	for _, g := range []string{"exec", "http", "forward"} {
		actortest.WaitCommittedToEnd(t, b, g, "traced")
	}
	forwarded := actortest.ReadTopic(t, b, "traced.out", 1)[0]

	// The process span of each group's attempt, by group.
	process := map[string]sdktrace.ReadOnlySpan{}
	var fwdPublish sdktrace.ReadOnlySpan
	actortest.Eventually(t, 10*time.Second, "every attempt's span ends", func() bool {
		for _, s := range rec.Ended() {
			switch s.Name() {
			case "traced process":
				for _, kv := range s.Attributes() {
					if kv.Key == "messaging.consumer.group.name" {
						process[kv.Value.AsString()] = s
					}
				}
			case "traced.out publish":
				fwdPublish = s
			}
		}
		return len(process) == 3 && fwdPublish != nil
	})
	trace := root.SpanContext().TraceID().String()
	parentOf := func(group string) string {
		return "00-" + trace + "-" + process[group].SpanContext().SpanID().String() + "-01"
	}

	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(env) != parentOf("exec") {
		t.Errorf("exec TRACEPARENT = %q, want %q", env, parentOf("exec"))
	}
	mu.Lock()
	if httpParent != parentOf("http") {
		t.Errorf("http traceparent = %q, want %q", httpParent, parentOf("http"))
	}
	mu.Unlock()
	if fwdPublish.Parent().SpanID() != process["forward"].SpanContext().SpanID() {
		t.Errorf("the forward's publish span is not a child of its attempt's span")
	}
	want := "00-" + trace + "-" + fwdPublish.SpanContext().SpanID().String() + "-01"
	n := 0
	for _, h := range forwarded.Headers {
		if strings.EqualFold(h.Key, actors.HeaderTraceParent) {
			n++
			if string(h.Value) != want {
				t.Errorf("forwarded traceparent = %q, want %q (its publish span)", h.Value, want)
			}
		}
	}
	if n != 1 {
		t.Errorf("forwarded record has %d traceparent headers, want 1: %v", n, forwarded.Headers)
	}
}
