package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actortest"
)

// `actord start` with a topic_pattern consumer: the log handler gets the
// records of the matching topic that exists at start and of one created
// while actord runs, none of a topic that does not match, and SIGTERM
// commits both.
func TestStartTopicPattern(t *testing.T) {
	addr := startTestBroker(t)
	b := actortest.At(addr)
	actortest.CreateTopic(t, b, "orders.eu", 2)
	actortest.CreateTopic(t, b, "payments", 1)
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.jsonl")
	cfgFile := filepath.Join(dir, "actord.yaml")
	os.WriteFile(cfgFile, []byte(`kafka:
  bootstrap_servers: `+addr+`
  metadata_max_age: 1s
log:
  level: warn
http:
  listen: ""
runtime:
  commit_interval: 100ms
consumers:
  - topic_pattern: 'orders\..*'
    group: regional
    handler:
      log: {file: `+out+`}
`), 0o644)
	d := startDaemon(t, "start", "--config", cfgFile)
	actortest.Produce(t, b, "orders.eu", actortest.KeyValue("a", "eu-1"), actortest.KeyValue("b", "eu-2"))
	actortest.Produce(t, b, "payments", actortest.Value("not-mine"))
	handled := func(v string) bool {
		data, _ := os.ReadFile(out)
		return strings.Contains(string(data), v)
	}
	waitFor(t, 30*time.Second, "the records of orders.eu logged", func() bool { return handled(`"eu-1"`) && handled(`"eu-2"`) })
	actortest.CreateTopic(t, b, "orders.us", 1)
	actortest.Produce(t, b, "orders.us", actortest.Value("us-1"))
	waitFor(t, 30*time.Second, "the record of orders.us, created after the start, logged", func() bool { return handled(`"us-1"`) })
	d.stop(t)
	for _, topic := range []string{"orders.eu", "orders.us"} {
		if !actortest.CommittedToEnd(t, b, "regional", topic) {
			t.Errorf("%s: committed %v, end %v", topic, actortest.Committed(t, b, "regional", topic), actortest.EndOffsets(t, b, topic))
		}
	}
	if handled("not-mine") {
		t.Errorf("the record of payments, which does not match, was handled")
	}
	if s := d.out.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Errorf("output has a stack trace:\n%s", s)
	}
}
