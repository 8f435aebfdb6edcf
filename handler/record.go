package handler

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

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

// appendRecordLine appends m as one line of Record's JSON, newline
// included, exactly as a json.Encoder with SetEscapeHTML(false) writes
// recordJSON(m) (handler/record_test.go holds them to it), without
// reflection or an allocation per field.
func appendRecordLine(dst []byte, m *actors.Message[[]byte]) []byte {
	dst = append(dst, `{"topic":`...)
	dst = appendJSONString(dst, m.Topic)
	dst = append(dst, `,"partition":`...)
	dst = strconv.AppendInt(dst, int64(m.Partition), 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, m.Offset, 10)
	dst = append(dst, `,"key":`...)
	dst = appendJSONBytes(dst, m.Key)
	dst = append(dst, `,"headers":`...)
	dst = appendLogHeaders(dst, m.Headers)
	dst = append(dst, `,"value":`...)
	dst = appendJSONBytes(dst, m.Raw)
	dst = append(dst, `,"timestamp":"`...)
	dst = m.Timestamp.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, "\"}\n"...)
}

// appendJSONBytes appends Bytes(b) as JSON.
func appendJSONBytes(dst, b []byte) []byte {
	switch {
	case b == nil:
		return append(dst, "null"...)
	case utf8.Valid(b):
		return appendJSONString(dst, unsafeString(b))
	default:
		dst = append(dst, `{"base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, b)
		return append(dst, `"}`...)
	}
}

// unsafeString is b as a string without a copy, for appending only.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendLogHeaders appends headersJSON(hs) as JSON: names sorted, a
// name that repeats with its last value.
func appendLogHeaders(dst []byte, hs []kgo.RecordHeader) []byte {
	switch len(hs) {
	case 0:
		return append(dst, "{}"...)
	case 1:
		dst = append(dst, '{')
		dst = appendJSONString(dst, hs[0].Key)
		dst = append(dst, ':')
		dst = appendJSONBytes(dst, hs[0].Value)
		return append(dst, '}')
	}
	// Sort indexes by name, the later first among equal names, and keep
	// the first of each name.
	idx := make([]int, len(hs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(hs[a].Key, hs[b].Key); c != 0 {
			return c
		}
		return b - a
	})
	dst = append(dst, '{')
	for n, i := range idx {
		if n > 0 && hs[idx[n-1]].Key == hs[i].Key {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, hs[i].Key)
		dst = append(dst, ':')
		dst = appendJSONBytes(dst, hs[i].Value)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string byte for byte as
// encoding/json does with HTML escaping off: quote, backslash and control
// characters escaped (\b \f \n \r \t short), invalid UTF-8 replaced by
// \ufffd, U+2028 and U+2029 escaped. The log lines and the stream
// protocol's record lines (exec_stream.go) write their strings with it.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
