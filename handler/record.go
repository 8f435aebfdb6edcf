package handler

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
)

// jsonRecord is the JSON shape of one record, the same as `actord consume
// -o json`: exactly these fields, in this order. Key, value and header
// values are a string when valid UTF-8, null when absent and
// {"base64": "..."} otherwise.
type jsonRecord struct {
	Topic     string         `json:"topic"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
	Key       any            `json:"key"`
	Headers   map[string]any `json:"headers"`
	Value     any            `json:"value"`
	Timestamp string         `json:"timestamp"`
}

func recordJSON(m actors.Message[[]byte]) jsonRecord {
	return jsonRecord{
		Topic:     m.Topic,
		Partition: m.Partition,
		Offset:    m.Offset,
		Key:       jsonBytes(m.Key),
		Headers:   headersJSON(m.Headers),
		Value:     jsonBytes(m.Raw),
		Timestamp: m.Timestamp.UTC().Format(time.RFC3339Nano),
	}
}

// headersJSON maps header names to values; a name that repeats keeps its
// last value.
func headersJSON(hs []kgo.RecordHeader) map[string]any {
	out := make(map[string]any, len(hs))
	for _, h := range hs {
		out[h.Key] = jsonBytes(h.Value)
	}
	return out
}

// jsonBytes is b for JSON without loss: nil stays null, valid UTF-8 is a
// string, anything else is {"base64": "..."} (a bare string would have its
// invalid bytes replaced).
func jsonBytes(b []byte) any {
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
