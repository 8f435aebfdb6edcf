package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupsCLI runs `actord ARGS...` in-process. Until root.go registers the
// groups command, it builds the root the way run does and adds it.
func groupsCLI(t *testing.T, ctx context.Context, args ...string) cliResult {
	t.Helper()
	a := &app{flagKeys: map[string]any{}}
	root := a.rootCmd()
	if slices.ContainsFunc(root.Commands(), func(c *cobra.Command) bool { return c.Name() == "groups" }) {
		return runCLI(t, ctx, "", args...)
	}
	var stdout, stderr lockedBuffer
	a.stdin, a.stdout, a.stderr = strings.NewReader(""), &stdout, &stderr
	root.AddCommand(a.groupsCmd())
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	select {
	case err := <-done:
		code := 0
		if err != nil {
			code = 1
			fmt.Fprintln(&stderr, "actord: "+oneLine(err.Error()))
		}
		return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	case <-ctx.Done():
		t.Fatalf("actord %s: still running at the deadline", strings.Join(args, " "))
		return cliResult{}
	}
}

// mustGroupsCLI is groupsCLI that fails the test unless actord exits 0
// with nothing on stderr.
func mustGroupsCLI(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	res := groupsCLI(t, ctx, args...)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("actord %s: exit %d, stderr %q", strings.Join(args, " "), res.code, res.stderr)
	}
	return res.stdout
}

// groupDescribeJSON runs `groups describe GROUP -o json` and decodes it.
func groupDescribeJSON(t *testing.T, ctx context.Context, addr, group string) describedGroup {
	t.Helper()
	out := mustGroupsCLI(t, ctx, "groups", "describe", group, "--brokers", addr, "-o", "json")
	var d describedGroup
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("groups describe %s -o json: %v in %q", group, err, out)
	}
	return d
}

func groupListJSON(t *testing.T, ctx context.Context, addr string) []listedGroup {
	t.Helper()
	out := mustGroupsCLI(t, ctx, "groups", "list", "--brokers", addr, "-o", "json")
	var list []listedGroup
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("groups list -o json: %v in %q", err, out)
	}
	return list
}

// groupsClient is a franz-go client on addr, closed at the end of the test.
func groupsClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// groupsFill creates topic with one partition per count and produces
// counts[p] records to partition p.
// groupsWritten is the timestamp of the records groupsFill writes, two
// hours ago: the lag in time of their partitions.
var groupsWritten = time.Now().Add(-2 * time.Hour)

func groupsFill(t *testing.T, ctx context.Context, addr, topic string, counts ...int) {
	t.Helper()
	cl := groupsClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, int32(len(counts)), 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	var rs []*kgo.Record
	for p, n := range counts {
		for i := range n {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(p), Value: fmt.Appendf(nil, "%s-%d-%d", topic, p, i),
				Timestamp: groupsWritten.Add(time.Duration(i) * time.Millisecond)})
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// groupsCommit commits offsets as the group member cl, and fails the test
// unless every partition's commit succeeds.
func groupsCommit(t *testing.T, ctx context.Context, cl *kgo.Client, offsets map[string]map[int32]int64) {
	t.Helper()
	uncommitted := map[string]map[int32]kgo.EpochOffset{}
	for topic, ps := range offsets {
		uncommitted[topic] = map[int32]kgo.EpochOffset{}
		for p, o := range ps {
			uncommitted[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
	}
	var errs []error
	cl.CommitOffsetsSync(ctx, uncommitted, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, tp := range resp.Topics {
			for _, p := range tp.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", tp.Topic, p.Partition, err))
				}
			}
		}
	})
	if len(errs) > 0 {
		t.Fatalf("commit %v: %v", offsets, errs)
	}
}

// groupsConsumeAll polls cl until it has seen want records per topic.
func groupsConsumeAll(t *testing.T, ctx context.Context, cl *kgo.Client, want map[string]int) {
	t.Helper()
	seen := map[string]int{}
	for !maps.Equal(seen, want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %v at the deadline, want %v", seen, want)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { seen[r.Topic]++ })
	}
}

// wantPartition is the expected line of a described partition; committed
// -1 means nothing committed.
type wantPartition struct {
	topic     string
	partition int32
	committed int64
	end, lag  int64
	owned     bool
}

func checkPartitions(t *testing.T, d describedGroup, member string, want []wantPartition) {
	t.Helper()
	if len(d.Partitions) != len(want) {
		t.Fatalf("partitions %s, want %d of them", mustJSON(t, d.Partitions), len(want))
	}
	var total int64
	for i, w := range want {
		p := d.Partitions[i]
		committed := int64(-1)
		if p.Committed != nil {
			committed = *p.Committed
		}
		wantMember := ""
		if w.owned {
			wantMember = member
		}
		if p.Topic != w.topic || p.Partition != w.partition || committed != w.committed ||
			p.End == nil || *p.End != w.end || p.Lag == nil || *p.Lag != w.lag || p.Member != wantMember || p.Error != "" {
			t.Errorf("partition %d: %s, want %+v (member %q)", i, mustJSON(t, p), w, wantMember)
		}
		// Lag in time: the age of the record at the committed offset,
		// written two hours ago (groupsFill); none without lag.
		age := time.Since(groupsWritten).Seconds()
		switch {
		case w.lag == 0 && p.LagSeconds != nil:
			t.Errorf("partition %d: lag_seconds %v without lag", i, *p.LagSeconds)
		case w.lag > 0 && (p.LagSeconds == nil || *p.LagSeconds < age-60 || *p.LagSeconds > age+1):
			t.Errorf("partition %d: lag_seconds %s, want about %.0f (the record at the commit was written 2h ago)", i, mustJSON(t, p.LagSeconds), age)
		}
		total += w.lag
	}
	if d.TotalLag != total {
		t.Errorf("total_lag %d, want %d", d.TotalLag, total)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitGroupState polls `groups describe` until the group is in state.
func waitGroupState(t *testing.T, ctx context.Context, addr, group, state string) describedGroup {
	t.Helper()
	for {
		d := groupDescribeJSON(t, ctx, addr, group)
		if d.State == state {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s: state %q at the deadline, want %q", group, d.State, state)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestGroupsDescribeKgoGroup: a franz-go group consumer reads everything
// and commits chosen offsets; describe reports them, the end offsets and
// the lag exactly, first with the member owning the partitions, then after
// it left.
func TestGroupsDescribeKgoGroup(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	groupsFill(t, ctx, addr, "orders", 10, 10, 10)
	groupsFill(t, ctx, addr, "audit", 4)
	// Drop audit's first record: with nothing committed, lag counts from
	// the log start offset (1), not from 0.
	adm := kadm.NewClient(groupsClient(t, addr))
	var trim kadm.Offsets
	trim.Add(kadm.Offset{Topic: "audit", Partition: 0, At: 1})
	if resp, err := adm.DeleteRecords(ctx, trim); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}

	consumer := groupsClient(t, addr,
		kgo.ConsumerGroup("g1"),
		kgo.ConsumeTopics("orders", "audit"),
		kgo.ClientID("groups-test"),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	groupsConsumeAll(t, ctx, consumer, map[string]int{"orders": 30, "audit": 3})
	// 20 of the 30 orders are done: all of partition 0, 7 of 1, 3 of 2.
	// audit is read but nothing of it is committed.
	groupsCommit(t, ctx, consumer, map[string]map[int32]int64{"orders": {0: 10, 1: 7, 2: 3}})

	d := waitGroupState(t, ctx, addr, "g1", "Stable")
	if len(d.Members) != 1 {
		t.Fatalf("members %s, want one", mustJSON(t, d.Members))
	}
	m := d.Members[0]
	wantAssigned := []groupAssigned{{Topic: "audit", Partitions: []int32{0}}, {Topic: "orders", Partitions: []int32{0, 1, 2}}}
	if m.MemberID == "" || m.ClientID != "groups-test" || m.Host == "" || mustJSON(t, m.Assigned) != mustJSON(t, wantAssigned) {
		t.Errorf("member %s: want client_id groups-test, a host, assigned %s", mustJSON(t, m), mustJSON(t, wantAssigned))
	}
	if d.Group != "g1" || d.ProtocolType != "consumer" || d.Protocol == "" {
		t.Errorf("group %q protocol %q/%q: want g1, consumer and an assignor", d.Group, d.ProtocolType, d.Protocol)
	}
	checkPartitions(t, d, m.MemberID, []wantPartition{
		{"audit", 0, -1, 4, 3, true},
		{"orders", 0, 10, 10, 0, true},
		{"orders", 1, 7, 10, 3, true},
		{"orders", 2, 3, 10, 7, true},
	})

	// The table says the same, sorted by topic then partition.
	table := mustGroupsCLI(t, ctx, "groups", "describe", "g1", "--brokers", addr)
	t.Logf("groups describe g1:\n%s", table)
	for _, want := range [][]string{
		{"STATE:", "Stable"},
		{"TOTAL", "LAG:", "13"},
		{m.MemberID, "groups-test", m.Host, "audit[0]", "orders[0,1,2]"},
		{"TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LAG", "TIME", "MEMBER"},
		{"audit", "0", "-", "4", "3", "2h0m*", m.MemberID},
		{"orders", "0", "10", "10", "0", "-", m.MemberID},
		{"orders", "1", "7", "10", "3", "2h0m*", m.MemberID},
		{"orders", "2", "3", "10", "7", "2h0m*", m.MemberID},
	} {
		if !slices.ContainsFunc(strings.Split(table, "\n"), func(l string) bool { return fieldsMatch(strings.Fields(l), want) }) {
			t.Errorf("describe table has no line %q:\n%s", strings.Join(want, " "), table)
		}
	}
	if i, j := strings.Index(table, "orders  0"), strings.Index(table, "orders  2"); i < 0 || j < i || strings.Index(table, "audit  ") > i {
		t.Errorf("describe table not sorted by topic, partition:\n%s", table)
	}

	list := groupListJSON(t, ctx, addr)
	i := slices.IndexFunc(list, func(g listedGroup) bool { return g.Group == "g1" })
	if i < 0 {
		t.Fatalf("groups list: no g1 in %s", mustJSON(t, list))
	}
	if g := list[i]; g.State != "Stable" || g.Type != "classic" || g.ProtocolType != "consumer" || g.Members == nil || *g.Members != 1 {
		t.Errorf("groups list: g1 is %s, want Stable classic consumer with 1 member", mustJSON(t, g))
	}
	table = mustGroupsCLI(t, ctx, "groups", "list", "--brokers", addr)
	t.Logf("groups list:\n%s", table)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if !slices.Equal(strings.Fields(lines[0]), []string{"GROUP", "TYPE", "STATE", "PROTOCOL", "TYPE", "MEMBERS"}) ||
		!slices.ContainsFunc(lines, func(l string) bool {
			return slices.Equal(strings.Fields(l), []string{"g1", "classic", "Stable", "consumer", "1"})
		}) {
		t.Errorf("groups list table:\n%s", table)
	}

	// Once the member has left, the committed partitions remain, owned by
	// nobody; audit, never committed, is no longer the group's.
	consumer.Close()
	d = waitGroupState(t, ctx, addr, "g1", "Empty")
	if len(d.Members) != 0 {
		t.Errorf("members after leave: %s", mustJSON(t, d.Members))
	}
	checkPartitions(t, d, "", []wantPartition{
		{"orders", 0, 10, 10, 0, false},
		{"orders", 1, 7, 10, 3, false},
		{"orders", 2, 3, 10, 7, false},
	})
}

// TestGroupsDescribeNextGenGroup: a KIP-848 group (the broker assigns) is
// described like a classic one. The embedded broker names the assigned
// topics by ID only; describe still names them.
func TestGroupsDescribeNextGenGroup(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	groupsFill(t, ctx, addr, "events", 6, 4)
	consumer := groupsClient(t, addr,
		kgo.ConsumerGroup("ng"),
		kgo.ConsumeTopics("events"),
		kgo.ServerSideBalancer(),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.ClientID("next-gen"),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	groupsConsumeAll(t, ctx, consumer, map[string]int{"events": 10})
	groupsCommit(t, ctx, consumer, map[string]map[int32]int64{"events": {0: 4}})

	d := waitGroupState(t, ctx, addr, "ng", "Stable")
	if d.Type != "consumer" || len(d.Members) != 1 || d.Members[0].ClientID != "next-gen" ||
		mustJSON(t, d.Members[0].Assigned) != `[{"topic":"events","partitions":[0,1]}]` {
		t.Fatalf("describe ng: %s, want a consumer group with one member next-gen owning events[0,1]", mustJSON(t, d))
	}
	checkPartitions(t, d, d.Members[0].MemberID, []wantPartition{
		{"events", 0, 4, 6, 2, true},
		{"events", 1, -1, 4, 4, true},
	})
	list := groupListJSON(t, ctx, addr)
	if len(list) != 1 || list[0].Group != "ng" || list[0].Type != "consumer" || list[0].Members == nil || *list[0].Members != 1 {
		t.Errorf("groups list: %s, want ng, a consumer group with 1 member", mustJSON(t, list))
	}
}

// TestGroupsErrors: every failure is one line on stderr and a non-zero
// exit.
func TestGroupsErrors(t *testing.T) {
	t.Parallel()
	addr := startTestBroker(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // a closed port: connection refused

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown group", []string{"groups", "describe", "nope", "--brokers", addr}, []string{`group "nope"`, "not found"}},
		{"unknown group json", []string{"groups", "describe", "nope", "--brokers", addr, "-o", "json"}, []string{`group "nope"`, "not found"}},
		{"no group", []string{"groups", "describe", "--brokers", addr}, []string{"want one GROUP"}},
		{"empty group", []string{"groups", "describe", "", "--brokers", addr}, []string{"group name is empty"}},
		{"bad output", []string{"groups", "list", "--brokers", addr, "-o", "yaml"}, []string{`-o "yaml"`}},
		{"unknown subcommand", []string{"groups", "show", "--brokers", addr}, []string{`unknown command "show"`}},
		{"list unreachable", []string{"groups", "list", "--brokers", closed}, []string{closed, "actord broker", "--embedded"}},
		{"describe unreachable", []string{"groups", "describe", "g", "--brokers", closed}, []string{closed, "actord broker", "--embedded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := deadlineCtx(t, 30*time.Second)
			res := groupsCLI(t, ctx, tt.args...)
			assertOneLineError(t, res.code, res.stderr, tt.want...)
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
		})
	}
}

// TestGroupsListEmpty: a cluster without groups lists none.
func TestGroupsListEmpty(t *testing.T) {
	t.Parallel()
	ctx := deadlineCtx(t, 30*time.Second)
	addr := startTestBroker(t)
	if out := mustGroupsCLI(t, ctx, "groups", "list", "--brokers", addr, "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("list -o json: %q, want []", out)
	}
	if out := mustGroupsCLI(t, ctx, "groups", "list", "--brokers", addr); strings.TrimSpace(out) != "GROUP  TYPE  STATE  PROTOCOL TYPE  MEMBERS" {
		t.Errorf("list: %q, want the header only", out)
	}
}

// kafkaPythonScript consumes WANT records of TOPIC in group GROUP with
// kafka-python, commits what it consumed, prints the committed offsets
// per partition as read back from the group coordinator, then stays in the
// group until its stdin has a line (or ends).
const kafkaPythonScript = `
import json, sys
from kafka import KafkaConsumer, TopicPartition
addr, topic, group, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = KafkaConsumer(topic, group_id=group, bootstrap_servers=addr, client_id="kafka-python-interop",
                  enable_auto_commit=False, auto_offset_reset="earliest", consumer_timeout_ms=20000)
n = 0
for _ in c:
    n += 1
    if n == want:
        break
c.commit()
committed = {str(p): c.committed(TopicPartition(topic, p)) for p in sorted(c.partitions_for_topic(topic))}
print(json.dumps({"consumed": n, "committed": committed, "api_version": c.config["api_version"]}), flush=True)
sys.stdin.readline()
c.close()
`

// TestGroupsDescribeMatchesKafkaPython: the committed offsets of a group
// that Debian's python3-kafka (kafka-python) consumed in are the ones
// kafka-python itself reads back, and its member shows while it is in.
func TestGroupsDescribeMatchesKafkaPython(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import kafka").CombinedOutput(); err != nil {
		t.Fatalf("/usr/bin/python3 cannot import kafka (%v: %s): install python3-kafka; 'make test' does (make deps)", err, out)
	}
	ctx := deadlineCtx(t, 60*time.Second)
	addr := startTestBroker(t)
	groupsFill(t, ctx, addr, "py", 5, 5)

	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(pctx, "/usr/bin/python3", "-c", kafkaPythonScript, addr, "py", "pyg", "7")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			stdin.Close()
			cmd.Wait()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("kafka-python printed nothing (%v); stderr:\n%s", err, stderr.String())
	}
	var py struct {
		Consumed  int               `json:"consumed"`
		Committed map[string]*int64 `json:"committed"`
	}
	if err := json.Unmarshal([]byte(line), &py); err != nil {
		t.Fatalf("kafka-python output %q: %v", line, err)
	}
	t.Logf("kafka-python printed %s", strings.TrimSpace(line))
	if py.Consumed != 7 || len(py.Committed) != 2 {
		t.Fatalf("kafka-python consumed %d records, committed %s; want 7 records over 2 partitions; stderr:\n%s", py.Consumed, line, stderr.String())
	}

	// While kafka-python is in the group: its member owns both partitions.
	d := waitGroupState(t, ctx, addr, "pyg", "Stable")
	if len(d.Members) != 1 || d.Members[0].ClientID != "kafka-python-interop" ||
		mustJSON(t, d.Members[0].Assigned) != `[{"topic":"py","partitions":[0,1]}]` {
		t.Errorf("members %s: want the kafka-python client owning py[0,1]", mustJSON(t, d.Members))
	}
	checkPythonOffsets(t, d, py.Committed)
	if len(d.Members) == 1 {
		for _, p := range d.Partitions {
			if p.Member != d.Members[0].MemberID {
				t.Errorf("partition %s: want member %s", mustJSON(t, p), d.Members[0].MemberID)
			}
		}
	}

	// After it closed: same offsets, no member.
	stdin.Close()
	exited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("kafka-python: %v; stderr:\n%s", err, stderr.String())
	}
	d = waitGroupState(t, ctx, addr, "pyg", "Empty")
	checkPythonOffsets(t, d, py.Committed)
}

// checkPythonOffsets compares describe's partitions with the committed
// offsets kafka-python read back: 7 of the 10 records are committed.
func checkPythonOffsets(t *testing.T, d describedGroup, committed map[string]*int64) {
	t.Helper()
	var sum int64
	for _, p := range d.Partitions {
		want, ok := committed[fmt.Sprint(p.Partition)]
		if p.Topic != "py" || !ok || want == nil || p.Committed == nil || *p.Committed != *want ||
			p.End == nil || *p.End != 5 || p.Lag == nil || *p.Lag != 5-*want {
			t.Errorf("partition %s: kafka-python committed %v", mustJSON(t, p), want)
			continue
		}
		sum += *p.Committed
	}
	if len(d.Partitions) != 2 || sum != 7 || d.TotalLag != 3 {
		t.Errorf("partitions %s total_lag %d: want py/0 and py/1 committing 7 records, lag 3", mustJSON(t, d.Partitions), d.TotalLag)
	}
}

// fieldsMatch reports whether got has want's fields, a want ending in *
// matching any field with that prefix.
func fieldsMatch(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		if p, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(got[i], p) {
			continue
		}
		if got[i] != w {
			return false
		}
	}
	return true
}
