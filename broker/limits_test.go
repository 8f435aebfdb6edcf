package broker_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/broker"
)

// childBrokerEnv makes TestLimitsChildBroker run a broker for its parent.
const childBrokerEnv = "ACTORD_TEST_CHILD_BROKER"

// maxChildRSS is the resident memory the child broker may reach: it needs
// tens of MiB (more under -race); a broker building a billion partitions
// passes this within a second and is killed then.
const maxChildRSS = 1 << 30

// TestLimitsChildBroker is the broker of TestBrokerRefusesWhatItCannotServe,
// run in a process of its own so that a broker that does not refuse dies
// of its memory limit, not the machine. It prints the address and serves
// until its stdin closes.
func TestLimitsChildBroker(t *testing.T) {
	if os.Getenv(childBrokerEnv) == "" {
		t.Skip("run by TestBrokerRefusesWhatItCannotServe")
	}
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fmt.Println("ADDR", b.Addr())
	io.Copy(io.Discard, os.Stdin)
}

// startChildBroker starts TestLimitsChildBroker and a watch that kills it
// when its resident memory passes maxChildRSS. exceeded reports whether
// the watch killed it.
func startChildBroker(t *testing.T) (addr string, exceeded func() error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLimitsChildBroker$", "-test.count=1")
	cmd.Env = append(os.Environ(), childBrokerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	killed := make(chan int64, 1)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			rss := residentBytes(cmd.Process.Pid)
			if rss > maxChildRSS {
				cmd.Process.Kill()
				killed <- rss
				return
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		close(done)
		cmd.Process.Kill()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatalf("child broker printed no address: %v", sc.Err())
	}
	go io.Copy(io.Discard, stdout)
	return addr, func() error {
		select {
		case rss := <-killed:
			return fmt.Errorf("the broker's resident memory reached %d MiB (limit %d MiB): killed", rss>>20, maxChildRSS>>20)
		default:
		}
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return fmt.Errorf("the broker is gone: %v", err)
		}
		return nil
	}
}

// residentBytes is pid's VmRSS, or 0.
func residentBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestBrokerRefusesWhatItCannotServe asks the broker (over TCP, in a
// process of its own) for a billion partitions, a topic grown to a billion
// partitions and a 1 GiB request: each is refused with its Kafka error
// code, the broker's memory stays bounded, and it still serves a produce
// and consume round trip afterwards.
func TestBrokerRefusesWhatItCannotServe(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to watch the broker's memory")
	}
	ctx := testCtx(t)
	addr, exceeded := startChildBroker(t)
	adm := kadm.NewClient(client(t, addr))

	// The refusal first, with a short deadline: a broker that builds the
	// topic instead is killed by the memory watch, and the test fails.
	reqCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	resp, err := adm.CreateTopic(reqCtx, 1_000_000_000, 1, nil, "huge")
	cancel()
	if e := exceeded(); e != nil {
		t.Fatalf("CreateTopics 1e9 partitions: %v (client: %v)", e, err)
	}
	if !errors.Is(err, kerr.InvalidPartitions) {
		t.Fatalf("CreateTopics 1e9 partitions: %v, want INVALID_PARTITIONS", err)
	}
	if !strings.Contains(resp.ErrMessage, "at most 10000 partitions") {
		t.Errorf("CreateTopics 1e9 partitions: message %q, want the limit named", resp.ErrMessage)
	}

	// Many topics within the per-topic limit but not in all.
	var names []string
	for i := range 3 {
		names = append(names, fmt.Sprintf("many-%d", i))
	}
	reqCtx, cancel = context.WithTimeout(ctx, 10*time.Second)
	many, err := adm.CreateTopics(reqCtx, 5000, 1, nil, names...)
	cancel()
	if e := exceeded(); e != nil {
		t.Fatalf("CreateTopics 3 x 5000 partitions: %v", e)
	}
	if err != nil {
		t.Fatalf("CreateTopics 3 x 5000 partitions: %v", err)
	}
	for _, r := range many.Sorted() {
		if !errors.Is(r.Err, kerr.PolicyViolation) {
			t.Errorf("CreateTopics 3 x 5000 partitions: %s: %v, want POLICY_VIOLATION", r.Topic, r.Err)
		}
	}

	// Growing a topic beyond the limit.
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "small"); err != nil {
		t.Fatalf("create small: %v", err)
	}
	reqCtx, cancel = context.WithTimeout(ctx, 10*time.Second)
	grown, err := adm.UpdatePartitions(reqCtx, 1_000_000_000, "small")
	cancel()
	if e := exceeded(); e != nil {
		t.Fatalf("CreatePartitions to 1e9: %v", e)
	}
	if err != nil {
		t.Fatalf("CreatePartitions to 1e9: %v", err)
	}
	if r := grown["small"]; !errors.Is(r.Err, kerr.InvalidPartitions) {
		t.Fatalf("CreatePartitions to 1e9: %v, want INVALID_PARTITIONS", r.Err)
	}

	// A request frame announcing 1 GiB: the connection is closed before
	// the frame is read, as Kafka does past socket.request.max.bytes.
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var frame [8]byte
	binary.BigEndian.PutUint32(frame[:4], 1<<30)
	binary.BigEndian.PutUint16(frame[4:], uint16(kmsg.Produce.Int16()))
	if _, err := conn.Write(frame[:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var one [1]byte
	if _, err := conn.Read(one[:]); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("a 1 GiB request: read %v, want the connection closed", err)
	}

	// Still serving, within its memory.
	produce(t, ctx, addr, "after", "one", "two")
	if got := values(consumeAll(t, ctx, addr, "after", 2)); got != "one,two" {
		t.Fatalf("after the refusals consumed %q, want one,two", got)
	}
	if e := exceeded(); e != nil {
		t.Fatal(e)
	}
}

// TestBrokerRefusesReplicationFactorAboveOne: the embedded cluster is one
// broker, so replication factor 3 is INVALID_REPLICATION_FACTOR, as Kafka
// answers, with a message saying why.
func TestBrokerRefusesReplicationFactorAboveOne(t *testing.T) {
	ctx := testCtx(t)
	b := start(t, broker.Config{})
	adm := kadm.NewClient(client(t, b.Addr()))
	resp, err := adm.CreateTopic(ctx, 1, 3, nil, "replicated")
	if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("CreateTopics replication factor 3: %v, want INVALID_REPLICATION_FACTOR", err)
	}
	if !strings.Contains(resp.ErrMessage, "replication factor 3 is larger than the 1 broker") {
		t.Errorf("CreateTopics replication factor 3: message %q, want the cluster size named", resp.ErrMessage)
	}
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "fine"); err != nil {
		t.Fatalf("CreateTopics within the limits: %v", err)
	}
}
