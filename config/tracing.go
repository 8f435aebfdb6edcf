package config

import (
	"net/url"
	"strings"
)

// The exporters tracing.exporter accepts.
const (
	// ExporterNone turns tracing off: no span is made and no trace header
	// is written. The default (so is the empty string).
	ExporterNone = "none"
	// ExporterOTLP sends spans with OTLP over HTTP (protobuf) to
	// tracing.endpoint.
	ExporterOTLP = "otlp"
)

// Tracing configures OpenTelemetry tracing: W3C trace context in record
// headers from producers to handlers, and spans exported to a collector.
type Tracing struct {
	// Exporter is "none" (or empty: tracing off, the default) or "otlp".
	Exporter string `mapstructure:"exporter"`
	// Endpoint is the OTLP/HTTP collector's URL, http or https, such as
	// http://localhost:4318; spans go to its path, or to /v1/traces when
	// it has none. Required with exporter otlp, refused without it.
	Endpoint string `mapstructure:"endpoint"`
}

// On reports whether tracing is on.
func (t Tracing) On() bool { return t.Exporter == ExporterOTLP }

func (t Tracing) check(ck *checker) {
	switch t.Exporter {
	case "", ExporterNone:
		if t.Endpoint != "" {
			ck.add("tracing.endpoint", "set while tracing.exporter is %q: it would be ignored (set tracing.exporter: otlp, or remove it)", t.Exporter)
		}
		return
	case ExporterOTLP:
	default:
		ck.add("tracing.exporter", "%s is not one of none, otlp", clipQuoted(t.Exporter))
		return
	}
	if t.Endpoint == "" {
		ck.add("tracing.endpoint", "required with tracing.exporter otlp (the collector's OTLP/HTTP URL, such as http://localhost:4318)")
		return
	}
	u, err := url.Parse(t.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ") {
		ck.add("tracing.endpoint", "%s is not an http:// or https:// URL with a host, such as http://localhost:4318", clipQuoted(t.Endpoint))
	}
}
