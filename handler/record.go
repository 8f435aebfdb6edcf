package handler

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
)

// Record is the JSON shape of one record, shared by the log handler kind
// and `actord consume -o json`: exactly these fields, in this order. Key,
// value and header values are a string when valid UTF-8, null when absent
// and {"base64": "..."} otherwise.
type Record struct {
	Topic     string         `json:"topic"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
	Key       any            `json:"key"`
	Headers   map[string]any `json:"headers"`
	Value     any            `json:"value"`
	Timestamp string         `json:"timestamp"`
}

// RecordOf is r in the shape of Record.
func RecordOf(r *kgo.Record) Record {
	return Record{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Key:       Bytes(r.Key),
		Headers:   headersJSON(r.Headers),
		Value:     Bytes(r.Value),
		Timestamp: r.Timestamp.UTC().Format(time.RFC3339Nano),
	}
}

func recordJSON(m actors.Message[[]byte]) Record {
	return Record{
		Topic:     m.Topic,
		Partition: m.Partition,
		Offset:    m.Offset,
		Key:       Bytes(m.Key),
		Headers:   headersJSON(m.Headers),
		Value:     Bytes(m.Raw),
		Timestamp: m.Timestamp.UTC().Format(time.RFC3339Nano),
	}
}

// headersJSON maps header names to values; a name that repeats keeps its
// last value.
func headersJSON(hs []kgo.RecordHeader) map[string]any {
	out := make(map[string]any, len(hs))
	for _, h := range hs {
		out[h.Key] = Bytes(h.Value)
	}
	return out
}

// Bytes is b for JSON without loss: nil stays null, valid UTF-8 is a
// string, anything else is {"base64": "..."} (a bare string would have its
// invalid bytes replaced).
func Bytes(b []byte) any {
	switch {
	case b == nil:
		return nil
	case utf8.Valid(b):
		return string(b)
	default:
		return map[string]string{"base64": base64.StdEncoding.EncodeToString(b)}
	}
}

func itoa[T int | int32 | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
