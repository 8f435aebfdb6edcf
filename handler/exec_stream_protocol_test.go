package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"

	"github.com/actord/actord/supervisor"
)

// The record line carries what the log kind's Record does, plus attempt
// and trace context, as one line of JSON that encoding/json (and Python's
// json.loads, in exec_stream_test.go) reads back without loss.
func TestStreamRecordLine(t *testing.T) {
	r := &kgo.Record{
		Topic: "orders", Partition: 2, Offset: 42,
		Key:   []byte{0xff, 'k'}, // not UTF-8
		Value: []byte("line1\nline2\t\"quoted\" \\ \u2028 \x00 é"),
		Headers: []kgo.RecordHeader{
			{Key: "dup", Value: []byte("first")}, {Key: "bin", Value: []byte{0xc3}},
			{Key: "dup", Value: []byte("last")}, {Key: "empty", Value: nil}, {Key: "q\"uote", Value: []byte("v")},
		},
		Timestamp: time.Date(2024, 5, 1, 14, 0, 0, 123000000, time.FixedZone("CEST", 2*3600)),
	}
	line := appendStreamRecord(nil, context.Background(), r, 3)
	if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("line %q: want exactly one newline, at the end", line)
	}
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	var want map[string]any
	b, _ := json.Marshal(RecordOf(r))
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	want["attempt"] = 3.0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("line decodes to\n%v\nwant (the log kind's Record and attempt)\n%v", got, want)
	}
	if !bytes.HasPrefix(line, []byte(`{"topic":"orders","partition":2,"offset":42,"key":`)) {
		t.Errorf("line %q: want topic, partition and offset first (the shell example reads the offset after them)", line)
	}
	if bytes.Contains(line, []byte("traceparent")) {
		t.Errorf("line %q has trace context without tracing", line)
	}

	// With tracing on, the attempt's span context rides along.
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled,
	})
	line = appendStreamRecord(nil, trace.ContextWithSpanContext(context.Background(), sc), &kgo.Record{Topic: "t"}, 1)
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	if tp := "00-01020300000000000000000000000000-0405000000000000-01"; got["traceparent"] != tp || got["value"] != nil || got["key"] != nil {
		t.Errorf("traced line %q: want traceparent %s, null key and value", line, tp)
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		line string
		// class is the outcome: ok, retry, permanent, unavailable, or
		// protocol (with the error's text in want).
		class, want string
	}{
		{"7 ok", "ok", ""},
		{"7 retry", "retry", "offset 7: retry requested"},
		{"7 retry db locked", "retry", "retry requested: db locked"},
		{"7 fail bad amount: -3", "permanent", "offset 7: failed: bad amount: -3"},
		{"7 fail", "permanent", "failed: (no reason given)"},
		{"7 unavailable", "unavailable", "offset 7: unavailable"},
		{"7 unavailable upstream 503", "unavailable", "unavailable: upstream 503"},
		{"7 ok extra", "protocol", `answered "7 ok extra" for offset 7: "ok" takes no reason`},
		{"8 ok", "protocol", `answered "8 ok" for offset 7: another offset (8)`},
		{"ok", "protocol", `answered "ok" for offset 7: want "<offset> ok"`},
		{"", "protocol", `answered "" for offset 7`},
		{"7 OK", "protocol", `answered "7 OK" for offset 7: want`},
		{"7  ok", "protocol", `answered "7  ok"`},
		{"seven ok", "protocol", `answered "seven ok"`},
		{"7 done", "protocol", `answered "7 done" for offset 7: want "<offset> ok", "<offset> retry [reason]", "<offset> fail <reason>" or "<offset> unavailable [reason]"`},
		{"7 fail " + strings.Repeat("x", 300), "permanent", strings.Repeat("x", maxReason) + "..."},
	} {
		v, err := parseAnswer([]byte(tc.line), 7)
		if tc.class == "protocol" {
			var pe *protocolError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: error %v, want a protocol error with %q", tc.line, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		out := v.err("h.py", 7)
		class := strings.ToLower(supervisor.Decide(out).String())
		if _, ok := supervisor.IsUnavailable(out); ok {
			class = "unavailable"
		} else if out == nil {
			class = "ok"
		}
		if class != tc.class || out != nil && !strings.Contains(out.Error(), tc.want) {
			t.Errorf("%q: %s %v, want %s with %q", tc.line, class, out, tc.class, tc.want)
		}
	}
}
