package fromconfig

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/actord/actord/config"
)

// tracingShutdownTimeout bounds how long Close waits for the last spans to
// reach the collector: a collector that is down does not hold the exit.
const tracingShutdownTimeout = 5 * time.Second

// TracerProvider builds the OpenTelemetry tracer provider the tracing
// section describes, nil when tracing is off: spans of service batched and
// sent with OTLP over HTTP to tracing.endpoint (its path, or /v1/traces
// when it has none), every trace sampled unless the producer's trace
// context says it is not (parent-based). Shut it down after the runtime
// has stopped, to send what is still batched. It does not connect: an
// unreachable collector costs dropped spans, logged by OpenTelemetry,
// never a failed record.
func TracerProvider(c config.Tracing, service string) (*sdktrace.TracerProvider, error) {
	if !c.On() {
		return nil, nil
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("tracing.endpoint: %w", err)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpointURL(u.String()),
		otlptracehttp.WithTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing.endpoint: %w", err)
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	), nil
}

// shutdownTracing sends the spans still batched and stops tp, within
// tracingShutdownTimeout.
func shutdownTracing(tp *sdktrace.TracerProvider) {
	if tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracingShutdownTimeout)
	defer cancel()
	tp.Shutdown(ctx)
}
