package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/broker"
)

// topicsBroker starts an embedded broker for one test and returns its
// address.
func topicsBroker(t *testing.T) string {
	t.Helper()
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", DefaultPartitions: 1})
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(b.Close)
	return b.Addr()
}

// runTopics runs `actord ARGS...` in-process and returns the exit code and
// what it wrote.
func runTopics(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs the command and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runTopics(t, args...)
	if code != 0 {
		t.Fatalf("actord %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
	}
	if errOut != "" {
		t.Errorf("actord %s: unexpected stderr %q", strings.Join(args, " "), errOut)
	}
	return out
}

// listedTopic is one element of `actord topics list -o json`.
type listedTopic struct {
	Name              string `json:"name"`
	ID                string `json:"id"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
}

func listJSON(t *testing.T, addr string) []listedTopic {
	t.Helper()
	out := mustRun(t, "topics", "list", "--brokers", addr, "-o", "json")
	var got []listedTopic
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("topics list -o json: %v in %q", err, out)
	}
	return got
}

func TestTopicsRoundTrip(t *testing.T) {
	t.Parallel()
	addr := topicsBroker(t)

	out := mustRun(t, "topics", "create", "orders", "--brokers", addr,
		"--partitions", "3", "--config", "retention.ms=1000", "--config", "cleanup.policy=compact,delete")
	if want := "created topic \"orders\" (3 partitions, replication factor 1)\n"; out != want {
		t.Errorf("create orders: stdout %q, want %q", out, want)
	}
	out = mustRun(t, "topics", "create", "audit", "--brokers", addr)
	if want := "created topic \"audit\" (1 partition, replication factor 1)\n"; out != want {
		t.Errorf("create audit: stdout %q, want %q", out, want)
	}

	// Table: a header, then one row per topic sorted by name.
	out = mustRun(t, "topics", "list", "--brokers", addr)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	wantRows := [][]string{
		{"NAME", "PARTITIONS", "REPLICATION", "FACTOR"},
		{"audit", "1", "1"},
		{"orders", "3", "1"},
	}
	if len(rows) != len(wantRows) {
		t.Fatalf("topics list:\n%s\nwant %d lines", out, len(wantRows))
	}
	for i := range wantRows {
		if strings.Join(rows[i], " ") != strings.Join(wantRows[i], " ") {
			t.Errorf("topics list line %d = %q, want %q", i, rows[i], wantRows[i])
		}
	}

	list := listJSON(t, addr)
	if len(list) != 2 || list[0].Name != "audit" || list[0].Partitions != 1 ||
		list[1].Name != "orders" || list[1].Partitions != 3 || list[1].ReplicationFactor != 1 || list[1].ID == "" {
		t.Errorf("topics list -o json = %+v", list)
	}

	out = mustRun(t, "topics", "describe", "orders", "--brokers", addr)
	for _, want := range []string{"NAME:", "orders", "PARTITIONS:", "REPLICATION FACTOR:",
		"retention.ms=1000", "cleanup.policy=compact,delete", "PARTITION  LEADER  REPLICAS  ISR"} {
		if !strings.Contains(out, want) {
			t.Errorf("topics describe orders:\n%s\nwant it to contain %q", out, want)
		}
	}
	var partRows int
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] >= "0" && f[0] <= "9" {
			partRows++
		}
	}
	if partRows != 3 {
		t.Errorf("topics describe orders: %d partition rows, want 3:\n%s", partRows, out)
	}

	out = mustRun(t, "topics", "describe", "orders", "--brokers", addr, "-o", "json")
	var desc struct {
		Name             string            `json:"name"`
		Partitions       int               `json:"partitions"`
		Config           map[string]string `json:"config"`
		PartitionDetails []struct {
			Partition int     `json:"partition"`
			Leader    int     `json:"leader"`
			Replicas  []int32 `json:"replicas"`
		} `json:"partition_details"`
	}
	if err := json.Unmarshal([]byte(out), &desc); err != nil {
		t.Fatalf("topics describe -o json: %v in %q", err, out)
	}
	if desc.Name != "orders" || desc.Partitions != 3 || len(desc.PartitionDetails) != 3 ||
		desc.Config["retention.ms"] != "1000" || desc.Config["cleanup.policy"] != "compact,delete" {
		t.Errorf("topics describe -o json = %+v", desc)
	}
	for i, p := range desc.PartitionDetails {
		if p.Partition != i || p.Leader < 0 || len(p.Replicas) != 1 {
			t.Errorf("partition %d = %+v", i, p)
		}
	}

	if out := mustRun(t, "topics", "delete", "orders", "--brokers", addr); out != "deleted topic \"orders\"\n" {
		t.Errorf("delete: stdout %q", out)
	}
	if list := listJSON(t, addr); len(list) != 1 || list[0].Name != "audit" {
		t.Errorf("after delete, topics list -o json = %+v, want only audit", list)
	}
}

func TestTopicsListEmptyJSON(t *testing.T) {
	t.Parallel()
	addr := topicsBroker(t)
	if out := mustRun(t, "topics", "list", "--brokers", addr, "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty list -o json = %q, want []", out)
	}
}

func TestTopicsIfNotExists(t *testing.T) {
	t.Parallel()
	addr := topicsBroker(t)
	mustRun(t, "topics", "create", "orders", "--brokers", addr, "--partitions", "2")
	out := mustRun(t, "topics", "create", "orders", "--brokers", addr, "--partitions", "5", "--if-not-exists")
	if out != "topic \"orders\" already exists\n" {
		t.Errorf("create --if-not-exists: stdout %q", out)
	}
	if list := listJSON(t, addr); len(list) != 1 || list[0].Partitions != 2 {
		t.Errorf("after --if-not-exists: %+v, want orders unchanged with 2 partitions", list)
	}
}

// Every failure exits non-zero with exactly one line on stderr and nothing
// on stdout.
func TestTopicsErrors(t *testing.T) {
	t.Parallel()
	addr := topicsBroker(t)
	mustRun(t, "topics", "create", "orders", "--brokers", addr)

	tests := []struct {
		name string
		args []string
		want string // the whole stderr line, or a prefix ending in "..."
	}{
		{"exists", []string{"topics", "create", "orders"}, `actord: topic "orders" already exists`},
		{"bad name", []string{"topics", "create", "bad name"}, `actord: topic "bad name": name contains ' '...`},
		{"dot name", []string{"topics", "describe", ".."}, `actord: topic "..": name must not be...`},
		{"delete unknown", []string{"topics", "delete", "ghost"}, `actord: topic "ghost" does not exist`},
		{"describe unknown", []string{"topics", "describe", "ghost"}, `actord: topic "ghost" does not exist`},
		{"config without =", []string{"topics", "create", "x", "--config", "retention.ms"}, `actord: --config "retention.ms": want key=value...`},
		{"config empty key", []string{"topics", "create", "x", "--config", "=1"}, `actord: --config "=1": want key=value...`},
		{"zero partitions", []string{"topics", "create", "x", "--partitions", "0"}, `actord: --partitions 0: must be at least 1`},
		{"negative replication", []string{"topics", "create", "x", "--replication-factor", "-1"}, `actord: --replication-factor -1: must be at least 1`},
		{"partitions not a number", []string{"topics", "create", "x", "--partitions", "three"}, `actord: actord topics create: invalid argument "three" for "--partitions"...`},
		{"replication refused by cluster", []string{"topics", "create", "x", "--replication-factor", "3"}, `actord: create topic "x": INVALID_REPLICATION_FACTOR...`},
		{"no name", []string{"topics", "create"}, `actord: actord topics create: want one topic NAME, got 0 arguments...`},
		{"two names", []string{"topics", "delete", "a", "b"}, `actord: actord topics delete: want one topic NAME, got 2 arguments...`},
		{"bad output", []string{"topics", "list", "-o", "yaml"}, `actord: -o "yaml": want table or json`},
		{"unknown subcommand", []string{"topics", "purge"}, `actord: unknown command "purge" for "actord topics"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTopics(t, append(tt.args, "--brokers", addr)...)
			if code == 0 {
				t.Fatalf("exit 0, want non-zero (stdout %q)", out)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") {
				t.Errorf("stderr %q, want exactly one line", errOut)
			}
			line := strings.TrimSuffix(errOut, "\n")
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(line, prefix) {
					t.Errorf("stderr %q, want it to start %q", line, prefix)
				}
			} else if line != tt.want {
				t.Errorf("stderr %q, want %q", line, tt.want)
			}
		})
	}
}

// A broker that is not there fails fast, in one line that names the
// address and says how to get a broker.
func TestTopicsUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nobody listens on

	for _, args := range [][]string{
		{"topics", "list"},
		{"topics", "create", "orders"},
		{"topics", "describe", "orders"},
		{"topics", "delete", "orders"},
	} {
		start := time.Now()
		code, out, errOut := runTopics(t, append(args, "--brokers", addr)...)
		elapsed := time.Since(start)
		name := strings.Join(args, " ")
		if code == 0 {
			t.Errorf("%s: exit 0 against a closed port (stdout %q)", name, out)
		}
		if elapsed > 12*time.Second {
			t.Errorf("%s: took %v, want well under 15s", name, elapsed)
		}
		if strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: stderr %q, want one line", name, errOut)
		}
		for _, want := range []string{"cannot reach Kafka at " + addr, "actord broker", "--embedded"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr %q, want it to contain %q", name, errOut, want)
			}
		}
	}
}

// kcat (librdkafka), a client nobody here wrote, sees the topics actord
// created with their partition counts.
func TestTopicsKcatInterop(t *testing.T) {
	t.Parallel()
	kcatPath, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not on PATH: `make test` installs it (Debian package kcat)")
	}
	addr := topicsBroker(t)
	mustRun(t, "topics", "create", "orders", "--brokers", addr, "--partitions", "3")
	mustRun(t, "topics", "create", "orders.dlq", "--brokers", addr)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcatPath, "-L", "-J", "-b", addr, "-m", "5")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat -L: %v, stderr %q", err, stderr.String())
	}
	var meta struct {
		Topics []struct {
			Topic      string            `json:"topic"`
			Partitions []json.RawMessage `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal(out, &meta); err != nil {
		t.Fatalf("kcat -L -J output: %v in %q", err, out)
	}
	got := map[string]int{}
	for _, tp := range meta.Topics {
		got[tp.Topic] = len(tp.Partitions)
	}
	for name, want := range map[string]int{"orders": 3, "orders.dlq": 1} {
		if got[name] != want {
			t.Errorf("kcat sees %q with %d partitions, want %d (all: %v)", name, got[name], want, got)
		}
	}
}
