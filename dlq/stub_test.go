package dlq_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
)

func TestStubKeepsTheCoordinatesOnly(t *testing.T) {
	src := &kgo.Record{Topic: "orders", Partition: 2, Offset: 41, Timestamp: time.Unix(1700000000, 0),
		Key: []byte("k"), Value: []byte("a large value"), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t")}}}
	long := errors.New(strings.Repeat("e", 5000))
	r := dlq.Stub("orders.dlq", src, dlq.Failure{Group: "g", Attempts: 4, Err: long, FailedAt: time.Now()}, "MESSAGE_TOO_LARGE")
	l, err := dlq.Parse(r)
	if err != nil {
		t.Fatalf("Parse(Stub) = %v", err)
	}
	if why, ok := l.Raw(dlq.HeaderStub); !ok || why != "MESSAGE_TOO_LARGE" {
		t.Errorf("stub header = %q, %v", why, ok)
	}
	if l.Topic != "orders" || l.Partition != 2 || l.Offset != 41 || l.Attempts != 4 || l.Group != "g" {
		t.Errorf("stub coordinates = %s/%d@%d attempts %d group %q", l.Topic, l.Partition, l.Offset, l.Attempts, l.Group)
	}
	if len(l.Key) != 0 || len(l.Value) != 0 || len(l.Headers) != 0 {
		t.Errorf("stub carries key %q, value %q, headers %v; want none of the original's", l.Key, l.Value, l.Headers)
	}
	if len(l.Error) > 1100 {
		t.Errorf("stub error text is %d bytes; want it capped", len(l.Error))
	}
}
