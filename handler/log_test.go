package handler_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

func TestLogWritesOneJSONLinePerRecord(t *testing.T) {
	keyless := message()
	keyless.Key = nil
	keyless.Headers = nil
	binary := message()
	binary.Raw = []byte{0xff, 0xfe}
	binary.Headers = []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "a", Value: []byte("2")}}
	for _, c := range []struct {
		name string
		rec  actors.Message[[]byte]
		want map[string]any
		line string
	}{
		{
			name: "keyed",
			rec:  message(),
			want: map[string]any{
				"topic": "orders", "partition": 2.0, "offset": 42.0, "key": "customer-7",
				"headers": map[string]any{"trace": "abc", "source": "cli"},
				"value":   `{"id":1}`, "timestamp": "2024-05-01T12:00:00.123Z",
			},
			line: `{"topic":"orders","partition":2,"offset":42,"key":"customer-7","headers":{"source":"cli","trace":"abc"},"value":"{\"id\":1}","timestamp":"2024-05-01T12:00:00.123Z"}`,
		},
		{
			name: "keyless",
			rec:  keyless,
			want: map[string]any{
				"topic": "orders", "partition": 2.0, "offset": 42.0, "key": nil,
				"headers": map[string]any{}, "value": `{"id":1}`, "timestamp": "2024-05-01T12:00:00.123Z",
			},
		},
		{
			name: "binary value, repeated header",
			rec:  binary,
			want: map[string]any{
				"topic": "orders", "partition": 2.0, "offset": 42.0, "key": "customer-7",
				"headers": map[string]any{"a": "2"}, "value": map[string]any{"base64": "//4="},
				"timestamp": "2024-05-01T12:00:00.123Z",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			fn, err := handler.New(config.Handler{Log: &config.LogHandler{}}, nil, &out)
			if err != nil {
				t.Fatal(err)
			}
			if err := fn(context.Background(), c.rec); err != nil {
				t.Fatal(err)
			}
			line := out.String()
			if n := bytes.Count(out.Bytes(), []byte("\n")); n != 1 || line[len(line)-1] != '\n' {
				t.Fatalf("output %q is not exactly one line", line)
			}
			if c.line != "" && line != c.line+"\n" {
				t.Errorf("line\n %s\nwant\n %s", line, c.line)
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("record\n %v\nwant\n %v", got, c.want)
			}
		})
	}
}

func TestLogFileAppendsWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")
	if err := os.WriteFile(path, []byte("earlier line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	fn, err := handler.New(config.Handler{Log: &config.LogHandler{File: path}}, nil, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := message()
			m.Offset = int64(i)
			m.Raw = bytes.Repeat([]byte("v"), 10000) // big enough to tear if writes interleaved
			if err := fn(context.Background(), m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if stdout.Len() != 0 {
		t.Errorf("log with a file wrote %d bytes to stdout", stdout.Len())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != "earlier line" {
		t.Fatalf("the file's earlier content was not kept: %q", sc.Text())
	}
	seen := map[string]bool{}
	for sc.Scan() {
		var rec struct {
			Offset int64 `json:"offset"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not one JSON record: %v", len(seen)+2, err)
		}
		seen[strconv.FormatInt(rec.Offset, 10)] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("file holds %d distinct records, want %d", len(seen), n)
	}
}

// The batch form (a consumer in partition order, handler.NewBatch) writes
// the lines the record form writes, in order, and is there only for a
// regular file: stdout stays a record a write.
func TestLogBatchWritesTheRecordFormsLines(t *testing.T) {
	dir := t.TempDir()
	one, many := filepath.Join(dir, "one.jsonl"), filepath.Join(dir, "many.jsonl")
	fn, err := handler.New(config.Handler{Log: &config.LogHandler{File: one}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bfn, ok, err := handler.NewBatch(config.Handler{Log: &config.LogHandler{File: many}}, nil, nil)
	if err != nil || !ok {
		t.Fatalf("NewBatch(log to a file) = %v, %v; want a batch handler", ok, err)
	}
	var ms []actors.Message[[]byte]
	for i := range 100 {
		m := message()
		m.Offset = int64(i)
		m.Raw = []byte(`{"n":` + strconv.Itoa(i) + `}`)
		if i%7 == 0 {
			m.Raw = []byte{0xff, byte(i)}
		}
		ms = append(ms, m)
		if err := fn(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := bfn.Handle(context.Background(), ms[:60]); err != nil {
		t.Fatal(err)
	}
	if err := bfn.Handle(context.Background(), ms[60:]); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(one)
	b, _ := os.ReadFile(many)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the batch form wrote\n%s\nthe record form\n%s", b, a)
	}
	for _, h := range []config.LogHandler{{}, {File: "/dev/null"}} {
		if _, ok, err := handler.NewBatch(config.Handler{Log: &h}, nil, nil); ok || err != nil {
			t.Errorf("NewBatch(log %+v) = %v, %v; want none (a record a write)", h, ok, err)
		}
	}
}
