package config

import (
	"strings"
	"testing"
)

// Every tracing value that would be ignored or cannot work is one error
// naming its key.
func TestTracingKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		tr   Tracing
		want string // "" for valid
	}{
		{"off by default", Default().Tracing, ""},
		{"empty exporter is off", Tracing{}, ""},
		{"otlp", Tracing{Exporter: "otlp", Endpoint: "http://localhost:4318"}, ""},
		{"otlp https with a path", Tracing{Exporter: "otlp", Endpoint: "https://collector.example:443/otlp/v1/traces"}, ""},
		{"unknown exporter", Tracing{Exporter: "jaeger"}, `tracing.exporter: "jaeger" is not one of none, otlp`},
		{"endpoint without exporter", Tracing{Endpoint: "http://localhost:4318"}, "tracing.endpoint: set while tracing.exporter is \"\": it would be ignored"},
		{"endpoint with none", Tracing{Exporter: "none", Endpoint: "http://localhost:4318"}, "it would be ignored"},
		{"otlp without endpoint", Tracing{Exporter: "otlp"}, "tracing.endpoint: required with tracing.exporter otlp"},
		{"endpoint not a URL", Tracing{Exporter: "otlp", Endpoint: "localhost:4318"}, `tracing.endpoint: "localhost:4318" is not an http:// or https:// URL`},
		{"endpoint grpc scheme", Tracing{Exporter: "otlp", Endpoint: "grpc://c:4317"}, "is not an http:// or https:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Tracing = tc.tr
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			case tc.want != "" && strings.Count(err.Error(), "\n") > 0:
				t.Fatalf("Validate: %v, want one error", err)
			}
		})
	}
}
