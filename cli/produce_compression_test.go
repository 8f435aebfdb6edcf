package cli

import (
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
)

// batchCodecs records the compression attribute of every record batch
// the embedded broker b is sent (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
func batchCodecs(b *broker.Broker) func() []int16 {
	var mu sync.Mutex
	var codecs []int16
	b.Cluster().ControlKey(kmsg.Produce.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, tp := range kr.(*kmsg.ProduceRequest).Topics {
			for _, p := range tp.Partitions {
				for raw := p.Records; len(raw) > 0; {
					var rb kmsg.RecordBatch
					if rb.ReadFrom(raw) != nil {
						break
					}
					codecs = append(codecs, rb.Attributes&0x07)
					raw = raw[12+int(rb.Length):]
				}
			}
		}
		return nil, nil, false
	})
	return func() []int16 {
		mu.Lock()
		defer mu.Unlock()
		return append([]int16(nil), codecs...)
	}
}

// pythonKafkaRead reads n records of topic with Debian's python3-kafka
// (kafka-python, a client nobody here wrote) and returns their values, one
// a line, or its error output.
func pythonKafkaRead(t *testing.T, addr, topic string, n int) (string, error) {
	t.Helper()
	script := `
import sys
from kafka import KafkaConsumer
c = KafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], auto_offset_reset="earliest",
                  consumer_timeout_ms=10000, api_version=(2, 5, 0))
got = []
for m in c:
    got.append(m.value.decode())
    if len(got) == int(sys.argv[3]):
        break
print("\n".join(got))
`
	ctx := deadlineCtx(t, 60*time.Second)
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", script, addr, topic, strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// `actord produce` compresses with --compression, else with
// producer.compression (none by default); python3-kafka reads the
// default and gzip, and cannot read snappy without python3-snappy, the
// reason for the default.
func TestProduceCompression(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Fatal("/usr/bin/python3 not found: `make test` installs python3-kafka")
	}
	// Each line compresses well on its own: a batch that does not shrink
	// goes out uncompressed, and the lines may travel one to a batch.
	lines := strings.Repeat(strings.Repeat("the same words again and again and again ", 10)+"\n", 5)
	for _, tc := range []struct {
		name  string
		args  []string
		env   string // ACTORD_PRODUCER_COMPRESSION
		codec int16
		// python is what python3-kafka does with the records: "read"
		// them, "refuse" them naming the codec, or "" (not tried: lz4
		// and zstd need python3-lz4 and python3-zstandard).
		python string
	}{
		{"default none", nil, "", 0, "read"},
		{"flag gzip", []string{"--compression", "gzip"}, "", 1, "read"},
		{"config zstd", nil, "zstd", 4, ""},
		{"flag snappy over config lz4", []string{"--compression", "snappy"}, "lz4", 2, "refuse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := actortest.Broker(t)
			codecs := batchCodecs(b)
			if tc.env != "" {
				t.Setenv("ACTORD_PRODUCER_COMPRESSION", tc.env)
			}
			ctx := deadlineCtx(t, 60*time.Second)
			mustRunCLI(t, ctx, lines, append([]string{"produce", "words", "--brokers", b.Addr()}, tc.args...)...)
			got := codecs()
			if len(got) == 0 {
				t.Fatal("no batch reached the broker")
			}
			for _, c := range got {
				if c != tc.codec {
					t.Errorf("batch codec %d, want %d", c, tc.codec)
				}
			}
			if tc.python == "" {
				return
			}
			out, err := pythonKafkaRead(t, b.Addr(), "words", 5)
			switch {
			case tc.python == "read" && (err != nil || out != lines):
				t.Errorf("python3-kafka read %q (%v), want the 5 records", out, err)
			case tc.python == "refuse" && err == nil:
				t.Errorf("python3-kafka read snappy batches without python3-snappy: %q", out)
			case tc.python == "refuse" && !strings.Contains(strings.ToLower(out), "snappy"):
				t.Errorf("python3-kafka failed without naming snappy: %s", out)
			}
		})
	}
}

// A codec that does not exist is one line naming the flag, before any
// connection, and a non-zero exit.
func TestProduceCompressionRefused(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	res := runCLI(t, ctx, "v\n", "produce", "t", "--brokers", "127.0.0.1:1", "--compression", "brotli")
	if res.code == 0 || strings.TrimSpace(res.stderr) == "" || strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 ||
		!strings.Contains(res.stderr, `--compression: compression "brotli" is not one of none, gzip, snappy, lz4, zstd`) {
		t.Errorf("exit %d, stderr %q: want one line naming --compression and the codecs", res.code, res.stderr)
	}
}
