package dlq_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
)

// TestRecordFormat pins the bytes the runtime has always written: the
// original headers, then the actord.dlq.* ones in this order.
func TestRecordFormat(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	failed := time.Date(2024, 5, 1, 12, 3, 10, 0, time.UTC)
	src := &kgo.Record{Topic: "orders", Partition: 1, Offset: 41, Key: []byte("k"), Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t")}}, Timestamp: ts}
	cases := []struct {
		name    string
		handler string
		extra   []string
	}{
		{name: "consumer"},
		{name: "event handler", handler: "orders.created/notify", extra: []string{"actord.dlq.handler=orders.created/notify"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dl := dlq.Record("orders.dlq", src, dlq.Failure{Group: "g", Handler: tc.handler, Attempts: 3, Err: errors.New("boom"), FailedAt: failed})
			var got []string
			for _, h := range dl.Headers {
				got = append(got, h.Key+"="+string(h.Value))
			}
			want := append([]string{
				"trace=t",
				"actord.dlq.topic=orders",
				"actord.dlq.partition=1",
				"actord.dlq.offset=41",
				"actord.dlq.timestamp=2024-05-01T11:00:00.123456789Z",
				"actord.dlq.group=g",
				"actord.dlq.error=boom",
				"actord.dlq.attempts=3",
				"actord.dlq.failed_at=2024-05-01T12:03:10Z",
			}, tc.extra...)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("headers\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if dl.Topic != "orders.dlq" || string(dl.Key) != "k" || string(dl.Value) != "v" || dl.Partition != 0 || !dl.Timestamp.IsZero() {
				t.Errorf("record %+v: want topic orders.dlq, key k, value v, partition and timestamp left to the producer", dl)
			}
		})
	}
}

func TestRecordNilError(t *testing.T) {
	dl := dlq.Record("d", source("orders", 0), dlq.Failure{})
	l, err := dlq.Parse(dl)
	if err != nil || l.Error != "" || !l.Has(dlq.HeaderError) {
		t.Fatalf("Parse of a dead letter without an error: %+v, %v; want an empty error header", l, err)
	}
}

func TestParseRoundTrip(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 1, time.UTC)
	cases := []struct {
		name string
		src  *kgo.Record
		fail dlq.Failure
	}{
		{"plain", source("orders", 3), failure},
		{"empty key, nil value, no headers", &kgo.Record{Topic: "t", Key: []byte{}, Timestamp: ts}, failure},
		{"nil key, empty value", &kgo.Record{Topic: "t", Value: []byte{}, Timestamp: ts}, failure},
		{"header values with = and newlines", &kgo.Record{Topic: "t", Timestamp: ts, Headers: []kgo.RecordHeader{
			{Key: "a=b", Value: []byte("c=d\ne")}, {Key: "empty"}, {Key: "a=b", Value: []byte("again")},
		}}, failure},
		{"unicode error, handler", &kgo.Record{Topic: "t.ü", Partition: 7, Offset: 1 << 40, Timestamp: ts},
			dlq.Failure{Group: "gröup", Handler: "h/1", Attempts: 12, Err: errors.New("décodage: 無効 \"x\"\nline 2"), FailedAt: ts}},
		{"zero times", &kgo.Record{Topic: "t"}, dlq.Failure{Group: "g"}},
		{"looks like a header of ours", &kgo.Record{Topic: "t", Timestamp: ts, Headers: []kgo.RecordHeader{{Key: "actord.dlqx", Value: []byte("kept")}}}, failure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dl := dlq.Record("t.dlq", tc.src, tc.fail)
			dl.Partition, dl.Offset = 2, 9
			l, err := dlq.Parse(dl)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			wantErr := ""
			if tc.fail.Err != nil {
				wantErr = tc.fail.Err.Error()
			}
			if l.Topic != tc.src.Topic || l.Partition != tc.src.Partition || l.Offset != tc.src.Offset ||
				!l.Timestamp.Equal(tc.src.Timestamp) || l.Group != tc.fail.Group || l.Handler != tc.fail.Handler ||
				l.Error != wantErr || l.Attempts != tc.fail.Attempts || !l.FailedAt.Equal(tc.fail.FailedAt) {
				t.Errorf("letter %+v does not say what was dead-lettered (%+v, %+v)", l, tc.src, tc.fail)
			}
			if string(l.Key) != string(tc.src.Key) || (l.Key == nil) != (tc.src.Key == nil) ||
				string(l.Value) != string(tc.src.Value) || (l.Value == nil) != (tc.src.Value == nil) {
				t.Errorf("key %q value %q, want %q %q (nil kept nil)", l.Key, l.Value, tc.src.Key, tc.src.Value)
			}
			if !sameHeaders(l.Headers, tc.src.Headers) {
				t.Errorf("headers %v, want the original %v", l.Headers, tc.src.Headers)
			}
			if l.At != (dlq.Position{Topic: "t.dlq", Partition: 2, Offset: 9}) || l.Record != dl {
				t.Errorf("At %+v Record %p: want where the dead letter sits and the record itself", l.At, l.Record)
			}
		})
	}
}

func TestParseNotDeadLetter(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(r *kgo.Record)
		header string
		want   string
	}{
		{"no headers", func(r *kgo.Record) { r.Headers = nil }, dlq.HeaderTopic, "missing header actord.dlq.topic"},
		{"no attempts", func(r *kgo.Record) { drop(r, dlq.HeaderAttempts) }, dlq.HeaderAttempts, "missing header actord.dlq.attempts"},
		{"bad partition", func(r *kgo.Record) { set(r, dlq.HeaderPartition, "one") }, dlq.HeaderPartition, `header actord.dlq.partition "one"`},
		{"partition out of range", func(r *kgo.Record) { set(r, dlq.HeaderPartition, "4294967296") }, dlq.HeaderPartition, "actord.dlq.partition"},
		{"bad offset", func(r *kgo.Record) { set(r, dlq.HeaderOffset, "") }, dlq.HeaderOffset, `header actord.dlq.offset ""`},
		{"bad failed_at", func(r *kgo.Record) { set(r, dlq.HeaderFailedAt, "yesterday") }, dlq.HeaderFailedAt, `actord.dlq.failed_at "yesterday"`},
		{"empty topic", func(r *kgo.Record) { set(r, dlq.HeaderTopic, "") }, dlq.HeaderTopic, "empty topic"},
		{"last value counts", func(r *kgo.Record) {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: dlq.HeaderAttempts, Value: []byte("x")})
		}, dlq.HeaderAttempts, `actord.dlq.attempts "x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dlq.Record("d", source("orders", 1), failure)
			tc.edit(r)
			l, err := dlq.Parse(r)
			if err == nil || !errors.Is(err, dlq.ErrNotDeadLetter) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v; want an ErrNotDeadLetter naming %q", err, tc.want)
			}
			var he *dlq.InvalidHeaderError
			if !errors.As(err, &he) || he.Header != tc.header {
				t.Errorf("Parse: %v; want an InvalidHeaderError for %s first", err, tc.header)
			}
			if l.Has(tc.header) {
				t.Errorf("Has(%s) is true for a header that did not parse", tc.header)
			}
			if tc.header != dlq.HeaderTopic && (!l.Has(dlq.HeaderTopic) || l.Topic != "orders") {
				t.Errorf("letter %+v: want the headers that parsed kept", l)
			}
		})
	}
	if _, err := dlq.Parse(nil); !errors.Is(err, dlq.ErrNotDeadLetter) {
		t.Errorf("Parse(nil): %v, want ErrNotDeadLetter", err)
	}
}

func TestRaw(t *testing.T) {
	r := dlq.Record("d", source("orders", 1), failure)
	set(r, dlq.HeaderAttempts, "three")
	l, _ := dlq.Parse(r)
	if v, ok := l.Raw(dlq.HeaderAttempts); !ok || v != "three" {
		t.Errorf("Raw(attempts) = %q, %v; want the malformed value as written", v, ok)
	}
	if _, ok := l.Raw(dlq.HeaderHandler); ok {
		t.Error("Raw(handler) found a header the dead letter does not have")
	}
}

func FuzzParse(f *testing.F) {
	dl := dlq.Record("d", source("orders", 1), failure)
	seed := func(hs []kgo.RecordHeader) string {
		var b strings.Builder
		for _, h := range hs {
			fmt.Fprintf(&b, "%s\x00%s\x00", h.Key, h.Value)
		}
		return b.String()
	}
	f.Add(seed(dl.Headers), []byte("k"), []byte("v"))
	f.Add("actord.dlq.partition\x00-1\x00actord.dlq.topic\x00\x00", []byte(nil), []byte(nil))
	f.Add("actord.dlq.timestamp\x009999-99-99T\x00", []byte{}, []byte{0xff})
	f.Fuzz(func(t *testing.T, headers string, key, value []byte) {
		parts := strings.Split(headers, "\x00")
		r := &kgo.Record{Topic: "d", Key: key, Value: value}
		for i := 0; i+1 < len(parts); i += 2 {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: parts[i], Value: []byte(parts[i+1])})
		}
		l, err := dlq.Parse(r)
		if err != nil && !errors.Is(err, dlq.ErrNotDeadLetter) {
			t.Fatalf("Parse error %v does not match ErrNotDeadLetter", err)
		}
		for _, h := range l.Headers {
			if strings.HasPrefix(h.Key, dlq.HeaderPrefix) {
				t.Fatalf("header %q of ours kept among the original headers", h.Key)
			}
		}
		if err == nil {
			// A well-formed dead letter survives being built again.
			again, err := dlq.Parse(dlq.Record("d", &kgo.Record{Topic: l.Topic, Partition: l.Partition, Offset: l.Offset,
				Timestamp: l.Timestamp, Headers: l.Headers}, dlq.Failure{Group: l.Group, Handler: l.Handler, Attempts: l.Attempts,
				Err: errors.New(l.Error), FailedAt: l.FailedAt}))
			if err != nil && !strings.Contains(err.Error(), "timestamp") && !strings.Contains(err.Error(), "failed_at") {
				t.Fatalf("rebuilt dead letter does not parse: %v", err)
			}
			if err == nil && (again.Topic != l.Topic || again.Offset != l.Offset || again.Attempts != l.Attempts) {
				t.Fatalf("rebuilt %+v, want %+v", again, l)
			}
		}
	})
}

func drop(r *kgo.Record, key string) {
	var hs []kgo.RecordHeader
	for _, h := range r.Headers {
		if h.Key != key {
			hs = append(hs, h)
		}
	}
	r.Headers = hs
}

func set(r *kgo.Record, key, value string) {
	for i := range r.Headers {
		if r.Headers[i].Key == key {
			r.Headers[i].Value = []byte(value)
		}
	}
}
