package cli

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// kcat returns the path of kcat (librdkafka's command-line client), the
// client nobody in this project wrote.
func kcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat not found on PATH: `make test` installs it (Debian package kcat)")
	}
	return path
}

func runKcat(t *testing.T, ctx context.Context, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, kcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v; stderr %q", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func TestKcatReadsWhatProduceWrote(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	mustRunCLI(t, ctx, "first\nsecond value\n", "produce", "to-kcat", "--brokers", addr,
		"--key", "k1", "--header", "h1=v1", "--header", "h2=v2")

	out := runKcat(t, ctx, "", "-C", "-b", addr, "-t", "to-kcat", "-o", "beginning", "-e", "-q",
		"-f", "%k|%s|%h\n")
	want := "k1|first|h1=v1,h2=v2\nk1|second value|h1=v1,h2=v2\n"
	if out != want {
		t.Fatalf("kcat read %q, want %q", out, want)
	}
}

func TestConsumeReadsWhatKcatWrote(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	runKcat(t, ctx, "ka:value a\nkb:value b\n", "-P", "-b", addr, "-t", "from-kcat", "-K:",
		"-H", "h1=v1", "-H", "h2=v2")

	recs := decodeJSONLines(t, mustRunCLI(t, ctx, "", "consume", "from-kcat", "--brokers", addr,
		"--from-beginning", "-n", "2", "-o", "json"))
	want := []struct{ key, value string }{{"ka", "value a"}, {"kb", "value b"}}
	if len(recs) != len(want) {
		t.Fatalf("consume printed %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if r["key"] != want[i].key || r["value"] != want[i].value {
			t.Errorf("record %d: key %q value %q, want %q %q", i, r["key"], r["value"], want[i].key, want[i].value)
		}
		hs, _ := r["headers"].(map[string]any)
		if len(hs) != 2 || hs["h1"] != "v1" || hs["h2"] != "v2" {
			t.Errorf("record %d headers %v, want h1=v1 h2=v2", i, r["headers"])
		}
	}
}
