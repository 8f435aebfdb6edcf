package actors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// logLines is a slog JSON sink a test reads while it is written.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// kafka returns franz-go's lines (component kafka), decoded.
func (l *logLines) kafka(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["component"] == "kafka" {
			out = append(out, m)
		}
	}
	return out
}

// runLogged runs a consumer over 10 records with a runtime logging at
// level, stops it, and returns what was logged.
func runLogged(t *testing.T, level slog.Level) *logLines {
	t.Helper()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "logged", 1)
	lines := &logLines{}
	rt := actortest.Runtime(t, b, actors.WithLogger(slog.New(slog.NewJSONHandler(lines, &slog.HandlerOptions{Level: level}))))
	err := actors.Consume(rt, "logged", "loggers", func(context.Context, actors.Message[string]) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	p, err := actors.NewProducer[string](rt, "logged")
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := p.Publish(context.Background(), "v"); err != nil {
			t.Fatal(err)
		}
	}
	actortest.WaitCommittedToEnd(t, b, "loggers", "logged")
	actortest.Stop(t, rt)
	return lines
}

// franz-go's own logs go to the runtime's logger, as component kafka with
// the client's role, and a healthy run says nothing at info: its
// informational lines come at debug.
func TestKafkaLogsGoToTheRuntimeLoggerQuietly(t *testing.T) {
	if got := runLogged(t, slog.LevelInfo).kafka(t); len(got) != 0 {
		t.Errorf("a healthy run logged %d franz-go lines at info, want none; the first: %v", len(got), got[0])
	}
	debug := runLogged(t, slog.LevelDebug).kafka(t)
	clients := map[string]bool{}
	for _, m := range debug {
		if m["level"] != "DEBUG" {
			t.Errorf("franz-go line at %v on a healthy run: %v", m["level"], m)
		}
		clients[m["client"].(string)] = true
	}
	if !clients["producer"] || !clients["group-loggers"] {
		t.Errorf("franz-go debug lines came from clients %v, want producer and group-loggers", clients)
	}
}

// A broker that goes away is reported by franz-go at warn, through the
// runtime's logger.
func TestKafkaLogsWarnWhenTheBrokerIsGone(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "gone", 1)
	lines := &logLines{}
	rt := actortest.Runtime(t, b, actors.WithLogger(slog.New(slog.NewJSONHandler(lines, nil))))
	err := actors.Consume(rt, "gone", "g", func(context.Context, actors.Message[string]) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	actortest.Eventually(t, 20*time.Second, "the group joins", func() bool { return rt.Ready(context.Background()) == nil })
	b.Close()
	start := time.Now()
	actortest.Eventually(t, 20*time.Second, "franz-go warns of the broker it cannot reach", func() bool {
		for _, m := range lines.kafka(t) {
			if m["level"] == "WARN" || m["level"] == "ERROR" {
				return true
			}
		}
		return false
	})
	t.Logf("franz-go lines %d in %s after the broker closed", len(lines.kafka(t)), time.Since(start).Round(time.Millisecond))
}
