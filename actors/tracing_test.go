package actors_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// recorder is a tracer provider whose ended spans a test reads.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, rec
}

// spansNamed returns the ended spans called name, in the order they ended.
func spansNamed(rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// childOf reports whether s is a child of parent in parent's trace.
func childOf(s sdktrace.ReadOnlySpan, parent trace.SpanContext) bool {
	return s.SpanContext().TraceID() == parent.TraceID() && s.Parent().SpanID() == parent.SpanID()
}

// A trace started by the publishing service continues through the broker:
// the publish span is a child of the caller's span, the consumer's receive
// span a child of the publish span, every handler attempt a process span
// under the receive span (the failed first one with its error), and a span
// the handler starts from its ctx nests under its attempt. A dead letter
// stays in the trace of the record it came from.
func TestTracingFollowsARecordFromProducerToHandler(t *testing.T) {
	tp, rec := recorder(t)
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.WithTracerProvider(tp))

	var mu sync.Mutex
	var handlerSpans []trace.SpanContext
	var traceparents []string
	err := actors.Consume(rt, "orders", "billing", func(ctx context.Context, m actors.Message[string]) error {
		tparent, _ := actors.TraceContext(ctx)
		mu.Lock()
		handlerSpans = append(handlerSpans, trace.SpanContextFromContext(ctx))
		traceparents = append(traceparents, tparent)
		mu.Unlock()
		if m.Value == "poison" {
			return actors.Permanent(errors.New("not an order"))
		}
		if m.Attempt == 1 {
			return errors.New("gateway timeout")
		}
		_, own := tp.Tracer("billing").Start(ctx, "charge")
		own.End()
		return nil
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[string](rt, "orders", actors.Header("source", "checkout"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, checkout := tp.Tracer("checkout").Start(context.Background(), "checkout")
	if _, err := p.Publish(ctx, "order-1"); err != nil {
		t.Fatal(err)
	}
	checkout.End()
	ctx2, bad := tp.Tracer("checkout").Start(context.Background(), "bad checkout")
	if _, err := p.Publish(ctx2, "poison"); err != nil {
		t.Fatal(err)
	}
	bad.End()
	actortest.WaitCommittedToEnd(t, b, "billing", "orders")
	actortest.Eventually(t, 10*time.Second, "the handler's own span and the dead letter's publish span end", func() bool {
		return len(spansNamed(rec, "charge")) == 1 && len(spansNamed(rec, "orders.dlq publish")) == 1
	})

	root := checkout.SpanContext()
	publishes := spansNamed(rec, "orders publish")
	if len(publishes) != 2 || !childOf(publishes[0], root) {
		t.Fatalf("publish spans %v: want 2, the first a child of the caller's span %s", names(publishes), root.SpanID())
	}
	if publishes[0].SpanKind() != trace.SpanKindProducer {
		t.Errorf("publish span kind %v, want producer", publishes[0].SpanKind())
	}
	var receive sdktrace.ReadOnlySpan
	for _, s := range spansNamed(rec, "orders receive") {
		if childOf(s, publishes[0].SpanContext()) {
			receive = s
		}
	}
	if receive == nil {
		t.Fatalf("no receive span is a child of the publish span %s: %v", publishes[0].SpanContext().SpanID(), names(rec.Ended()))
	}
	var attempts []sdktrace.ReadOnlySpan
	for _, s := range spansNamed(rec, "orders process") {
		if childOf(s, receive.SpanContext()) {
			attempts = append(attempts, s)
		}
	}
	if len(attempts) != 2 {
		t.Fatalf("%d process spans under the receive span, want 2 (a failed attempt and its retry)", len(attempts))
	}
	for i, s := range attempts {
		if a, _ := attr(s, actors.AttributeAttempt); a.AsInt64() != int64(i+1) {
			t.Errorf("attempt span %d: %s = %v, want %d", i, actors.AttributeAttempt, a.Emit(), i+1)
		}
		want := map[attribute.Key]string{
			"messaging.system":                   "kafka",
			"messaging.destination.name":         "orders",
			"messaging.destination.partition.id": "0",
			"messaging.consumer.group.name":      "billing",
			"messaging.operation.type":           "process",
			"messaging.kafka.offset":             "0",
		}
		for k, v := range want {
			if got, ok := attr(s, k); !ok || got.Emit() != v {
				t.Errorf("attempt span %d: %s = %q, want %q", i, k, got.Emit(), v)
			}
		}
	}
	if st := attempts[0].Status(); st.Code != codes.Error || !strings.Contains(st.Description, "gateway timeout") {
		t.Errorf("failed attempt's status %+v, want an error naming it", st)
	}
	if et, _ := attr(attempts[0], "error.type"); et.Emit() != "retry" {
		t.Errorf("failed attempt's error.type %q, want retry", et.Emit())
	}
	if len(attempts[0].Events()) == 0 || attempts[0].Events()[0].Name != "exception" {
		t.Errorf("failed attempt records no exception event: %+v", attempts[0].Events())
	}
	if st := attempts[1].Status(); st.Code == codes.Error {
		t.Errorf("successful attempt's status %+v", st)
	}
	own := spansNamed(rec, "charge")[0]
	if !childOf(own, attempts[1].SpanContext()) {
		t.Errorf("the handler's own span is not a child of its attempt's span")
	}
	for _, s := range []sdktrace.ReadOnlySpan{publishes[0], receive, attempts[0], attempts[1], own} {
		if s.SpanContext().TraceID() != root.TraceID() {
			t.Errorf("span %q is in trace %s, want %s", s.Name(), s.SpanContext().TraceID(), root.TraceID())
		}
	}

	// The handler's ctx is its attempt's span, and TraceContext writes it.
	mu.Lock()
	defer mu.Unlock()
	sawAttempt := false
	for i, sc := range handlerSpans {
		if sc.SpanID() == attempts[1].SpanContext().SpanID() {
			sawAttempt = true
			if want := "00-" + root.TraceID().String() + "-" + sc.SpanID().String() + "-01"; traceparents[i] != want {
				t.Errorf("TraceContext in the handler = %q, want %q", traceparents[i], want)
			}
		}
	}
	if !sawAttempt {
		t.Errorf("no handler ctx carried the second attempt's span")
	}

	// The record carries the caller's trace; its producer header is kept.
	got := actortest.ReadTopic(t, b, "orders", 2)
	if tp := header(got[0], actors.HeaderTraceParent); !strings.Contains(tp, root.TraceID().String()) {
		t.Errorf("record traceparent %q, want trace %s", tp, root.TraceID())
	}
	if header(got[0], "source") != "checkout" {
		t.Errorf("record lost its own header: %v", got[0].Headers)
	}
	// The dead letter stays in the poison record's trace, as a publish
	// span under its receive span.
	letters := actortest.ReadTopic(t, b, "orders.dlq", 1)
	if tp := header(letters[0], actors.HeaderTraceParent); !strings.Contains(tp, bad.SpanContext().TraceID().String()) {
		t.Errorf("dead letter traceparent %q, want the poison record's trace %s", tp, bad.SpanContext().TraceID())
	}
	if dl := spansNamed(rec, "orders.dlq publish")[0]; dl.SpanContext().TraceID() != bad.SpanContext().TraceID() {
		t.Errorf("dead letter publish span in trace %s, want %s", dl.SpanContext().TraceID(), bad.SpanContext().TraceID())
	}
}

// With ConsumeWith the service's own handler actor gets the attempt's span
// in Delivery.Ctx.
func TestTracingReachesHandlerActors(t *testing.T) {
	tp, rec := recorder(t)
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b, actors.WithTracerProvider(tp))
	got := make(chan trace.SpanContext, 1)
	props := actor.PropsFromFunc(func(c actor.Context) {
		if d, ok := c.Message().(*actors.Delivery); ok {
			got <- trace.SpanContextFromContext(d.Ctx)
			d.Done(nil)
		}
	})
	if err := actors.ConsumeWith(rt, "jobs", "workers", props); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[string](rt, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := tp.Tracer("test").Start(context.Background(), "enqueue")
	if _, err := p.Publish(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	root.End()
	var sc trace.SpanContext
	select {
	case sc = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler actor got no delivery in 30s")
	}
	if sc.TraceID() != root.SpanContext().TraceID() {
		t.Fatalf("Delivery.Ctx is in trace %s, want %s", sc.TraceID(), root.SpanContext().TraceID())
	}
	actortest.Eventually(t, 10*time.Second, "the process span ends", func() bool { return len(spansNamed(rec, "jobs process")) == 1 })
	if p := spansNamed(rec, "jobs process")[0]; p.SpanContext().SpanID() != sc.SpanID() {
		t.Errorf("Delivery.Ctx's span %s is not the process span %s", sc.SpanID(), p.SpanContext().SpanID())
	}
}

// Off, tracing adds nothing: no trace headers on produced records, no span
// in the handler's ctx.
func TestTracingOffAddsNothing(t *testing.T) {
	tp, _ := recorder(t)
	b := actortest.Broker(t)
	rt := actortest.Runtime(t, b)
	spans := make(chan trace.SpanContext, 1)
	err := actors.Consume(rt, "quiet", "g", func(ctx context.Context, m actors.Message[string]) error {
		spans <- trace.SpanContextFromContext(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[string](rt, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	// A caller's span does not leak into records when tracing is off.
	ctx, root := tp.Tracer("test").Start(context.Background(), "caller")
	defer root.End()
	if _, err := p.Publish(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	r := actortest.ReadTopic(t, b, "quiet", 1)[0]
	if len(r.Headers) != 0 {
		t.Errorf("record headers %v with tracing off, want none", r.Headers)
	}
	select {
	case sc := <-spans:
		if sc.IsValid() {
			t.Errorf("handler ctx has span %s with tracing off", sc.SpanID())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("handler not called in 30s")
	}
}

func TestWithTracerProviderNil(t *testing.T) {
	_, err := actors.New(actors.Brokers("127.0.0.1:1"), actors.WithTracerProvider(nil))
	if err == nil || !strings.Contains(err.Error(), "actors.WithTracerProvider(nil)") {
		t.Fatalf("err = %v, want one naming actors.WithTracerProvider(nil)", err)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}
