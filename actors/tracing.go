package actors

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/actord/actord/supervisor"
)

// The record headers that carry a trace from a producer to its consumers:
// W3C Trace Context (https://www.w3.org/TR/trace-context/), the same names
// as the HTTP headers.
const (
	// HeaderTraceParent holds the version, trace id, parent span id and
	// flags of the span that produced the record.
	HeaderTraceParent = "traceparent"
	// HeaderTraceState holds vendor-specific trace state, when there is
	// any.
	HeaderTraceState = "tracestate"
)

// AttributeAttempt is the span attribute that numbers a handler attempt:
// 1 for the first, 2 for the first retry. OpenTelemetry's messaging
// conventions have none for redeliveries within a consumer.
const AttributeAttempt = attribute.Key("actord.attempt")

// traceInstrumentation names the runtime's own tracer (handler spans); the
// client spans are franz-go's plugin/kotel's.
const traceInstrumentation = "github.com/actord/actord/actors"

// WithTracerProvider turns tracing on: W3C trace context travels in record
// headers (HeaderTraceParent, HeaderTraceState) from producers to
// consumers, and spans go to tp.
//
// A Publish, Emit, forward or dead letter starts a producer span, a child
// of the span in its ctx (franz-go's plugin/kotel: "<topic> publish"), and
// writes its context into the record's headers. A consumer starts a
// "<topic> receive" span per fetched record, a child of the producer's
// span in the headers (a new trace where there is none), and runs each
// handler attempt in a "<topic> process" span under it, with the OTel
// messaging attributes (messaging.system kafka, destination, partition,
// offset, consumer group, key) and AttributeAttempt; a failed attempt
// records its error and an error status, so the retries of a record are
// sibling spans with rising attempts. The handler's ctx carries the
// attempt's span: spans the service starts from it nest under it, and
// TraceContext reads it for other transports.
//
// Off by default, and then free: no hook is installed and no header is
// added. On, it costs a span per produced record, two per consumed record
// plus one per attempt, and the headers (README, Performance, has the
// figures). The runtime does not shut tp down: the service flushes and
// stops its own provider after Runtime.Stop.
func WithTracerProvider(tp trace.TracerProvider) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if tp == nil {
			s.bad("actors.WithTracerProvider(nil): want a tracer provider (leave the option out for no tracing)")
		}
		s.tracerProvider = tp
	})
}

// tracing is the runtime's tracing when it is on: the propagator (W3C
// trace context, always: it is what the headers are documented to hold),
// the tracer of handler spans, and the provider kotel's client hooks use.
type tracing struct {
	tp     trace.TracerProvider
	prop   propagation.TextMapPropagator
	tracer trace.Tracer
}

func newTracing(tp trace.TracerProvider) *tracing {
	if tp == nil {
		return nil
	}
	return &tracing{
		tp:     tp,
		prop:   propagation.TraceContext{},
		tracer: tp.Tracer(traceInstrumentation, trace.WithSchemaURL(semconv.SchemaURL)),
	}
}

// clientHook is the kotel tracer of a client of the runtime: producer
// spans that inject their context into the records they write, and, for a
// group client, receive spans that extract it from the records fetched.
func (t *tracing) clientHook(clientID, group string) kgo.Hook {
	opts := []kotel.TracerOpt{kotel.TracerProvider(t.tp), kotel.TracerPropagator(t.prop), kotel.ClientID(clientID)}
	if group != "" {
		opts = append(opts, kotel.ConsumerGroup(group))
	}
	return kotel.NewTracer(opts...)
}

// recordParent is the span context a consumed record continues: the
// receive span kotel left in its Context, or else the context in its
// headers (a record fetched by a client without the hook).
func (t *tracing) recordParent(r *kgo.Record) trace.SpanContext {
	if r.Context != nil {
		if sc := trace.SpanContextFromContext(r.Context); sc.IsValid() {
			return sc
		}
	}
	return trace.SpanContextFromContext(t.prop.Extract(context.Background(), kotel.NewRecordCarrier(r)))
}

// traceFrom is the context to produce a record made from the consumed
// record r with (its dead letter, a stub of it): with tracing on, one
// carrying r's span, so that the new record's producer span joins r's
// trace instead of starting one; otherwise Background.
func (rt *Runtime) traceFrom(r *kgo.Record) context.Context {
	ctx := context.Background()
	if rt.tracing == nil {
		return ctx
	}
	if sc := rt.tracing.recordParent(r); sc.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, sc)
	}
	return ctx
}

// attemptHook is partition.Hooks.Attempt for the consumers of group: each
// attempt in a process span, a child of the record's span.
func (t *tracing) attemptHook(group string) func(context.Context, *kgo.Record, int) (context.Context, func(error)) {
	return func(ctx context.Context, r *kgo.Record, attempt int) (context.Context, func(error)) {
		if sc := t.recordParent(r); sc.IsValid() {
			ctx = trace.ContextWithSpanContext(ctx, sc)
		}
		attrs := make([]attribute.KeyValue, 0, 9)
		attrs = append(attrs,
			semconv.MessagingSystemKafka,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationName(r.Topic),
			semconv.MessagingDestinationPartitionID(strconv.Itoa(int(r.Partition))),
			semconv.MessagingKafkaOffset(int(r.Offset)),
			semconv.MessagingConsumerGroupName(group),
			AttributeAttempt.Int(attempt),
		)
		if len(r.Key) > 0 && utf8.Valid(r.Key) {
			attrs = append(attrs, semconv.MessagingKafkaMessageKey(string(r.Key)))
		}
		ctx, span := t.tracer.Start(ctx, r.Topic+" process", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
		return ctx, func(err error) {
			if err != nil {
				span.RecordError(err)
				span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}

// errorType is the error.type of a failed attempt: how the runtime goes
// on with the record. "retry": tried again while retries remain, then
// dead-lettered; "permanent": dead-lettered at once; "panic" and
// "timeout" are retried like "retry".
func errorType(err error) string {
	var pe *supervisor.PanicError
	switch {
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, supervisor.ErrHandlerTimeout):
		return "timeout"
	case supervisor.Decide(err) == supervisor.Permanent:
		return "permanent"
	}
	return "retry"
}

// TraceContext returns the W3C traceparent and tracestate of the span in
// ctx, for a handler that passes its trace on over another transport (an
// HTTP request, a child process's environment). Both are empty when ctx
// carries no valid span: tracing is off, or ctx is not a handler's.
func TraceContext(ctx context.Context) (traceparent, tracestate string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", ""
	}
	var c propagation.MapCarrier = make(map[string]string, 2)
	propagation.TraceContext{}.Inject(ctx, c)
	return c[HeaderTraceParent], c[HeaderTraceState]
}
