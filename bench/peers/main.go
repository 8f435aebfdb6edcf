// Command peers consumes the same records from one `actord broker`
// process with raw franz-go, actord and the other Go Kafka consumers
// (sarama, kafka-go, confluent-kafka-go, Watermill), each side in a child
// process of its own, and writes the comparison into bench/RESULTS.md
// between the PEERS markers. `make bench-peers` runs it. It is a module of
// its own so that actord's users do not inherit these clients.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/bench"
)

const (
	partitions = 3
	keys       = 1000
)

// result is one side's run, as its child process prints it.
type result struct {
	Side    string `json:"side"`
	Records int    `json:"records"`
	// Join is from the client's creation to the first record handled
	// (group join, first fetch).
	Join time.Duration `json:"join_ns"`
	// Span is from the first record handled to the n-th.
	Span time.Duration `json:"span_ns"`
	// CPU is the child's user and system CPU time from before the
	// client's creation to the n-th record handled.
	CPU time.Duration `json:"cpu_ns"`
	// Stop is how long draining, committing and closing took.
	Stop time.Duration `json:"stop_ns"`
	// Lag is the group's lag after the child exited (committed offsets
	// against the end offsets), filled in by the parent.
	Lag int64 `json:"lag"`
}

func (r result) rate() float64 { return float64(r.Records) / r.Span.Seconds() }
func (r result) cpuPerRecord() time.Duration {
	return r.CPU / time.Duration(r.Records)
}

func main() {
	var (
		child   = flag.String("child", "", "internal: run this side in this process")
		addr    = flag.String("addr", "", "internal: the broker (with -child)")
		topic   = flag.String("topic", "", "internal: the topic (with -child)")
		group   = flag.String("group", "", "internal: the group (with -child)")
		n       = flag.Int("n", 1_000_000, "records (of 100 bytes, over 3 partitions)")
		rounds  = flag.Int("rounds", 5, "rounds; the side order is reversed every other round")
		root    = flag.String("root", "../..", "the actord repository, to build cmd/actord from")
		out     = flag.String("out", "../RESULTS.md", "the results file to write the PEERS section into (empty: print only)")
		only    = flag.String("sides", "", "comma-separated substrings of side names to run (default all)")
		timeout = flag.Duration("side-timeout", 3*time.Minute, "most one side's run may take")
	)
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if *child != "" {
		if err := runChild(*child, *addr, *topic, *group, *n, *timeout); err != nil {
			log.Fatalf("%s: %v", *child, err)
		}
		return
	}
	if err := runParent(*root, *out, *only, *n, *rounds, *timeout); err != nil {
		log.Fatal(err)
	}
}

// runChild consumes n records with the named side, prints its result as
// one JSON line and exits.
func runChild(name, addr, topic, group string, n int, timeout time.Duration) error {
	var s *side
	for i := range sides {
		if sides[i].name == name {
			s = &sides[i]
		}
	}
	if s == nil {
		return fmt.Errorf("no side %q", name)
	}
	var (
		count      atomic.Int64
		bad        atomic.Int64
		first, end atomic.Int64
		cpuEnd     atomic.Int64
		done       = make(chan struct{})
	)
	fn := func(v []byte) {
		if len(v) != bench.ValueSize {
			bad.Add(1)
		}
		c := count.Add(1)
		if c == 1 {
			first.Store(time.Now().UnixNano())
		}
		if c == int64(n) {
			end.Store(time.Now().UnixNano())
			cpuEnd.Store(int64(cpuTime()))
			close(done)
		}
	}
	cpu0 := cpuTime()
	t0 := time.Now()
	stop, err := s.start(addr, topic, group, fn)
	if err != nil {
		return err
	}
	select {
	case <-done:
	case <-time.After(timeout):
		return fmt.Errorf("%d of %d records within %v", count.Load(), n, timeout)
	}
	st := time.Now()
	if err := stop(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if c := count.Load(); c != int64(n) {
		return fmt.Errorf("%d records seen, want %d (duplicates: at-least-once redelivered some)", c, n)
	}
	if b := bad.Load(); b > 0 {
		return fmt.Errorf("%d values not of %d bytes", b, bench.ValueSize)
	}
	r := result{
		Side: name, Records: n,
		Join: time.Unix(0, first.Load()).Sub(t0),
		Span: time.Duration(end.Load() - first.Load()),
		CPU:  time.Duration(cpuEnd.Load()) - cpu0,
		Stop: time.Since(st),
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startBroker builds cmd/actord into dir and runs `actord broker` on a
// free loopback port.
func startBroker(root, dir string) (*exec.Cmd, string, error) {
	bin := filepath.Join(dir, "actord")
	b := exec.Command("go", "build", "-o", bin, "./cmd/actord")
	b.Dir, b.Stdout, b.Stderr = root, os.Stderr, os.Stderr
	if err := b.Run(); err != nil {
		return nil, "", fmt.Errorf("building actord: %w", err)
	}
	cmd := exec.Command(bin, "broker", "--listen", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "broker listening on "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, a, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, "", fmt.Errorf("actord broker exited without printing its address")
}

func runParent(root, out, only string, n, rounds int, timeout time.Duration) error {
	run := sides
	if only != "" {
		run = nil
		for _, s := range sides {
			for _, w := range strings.Split(only, ",") {
				if w != "" && strings.Contains(s.name, w) {
					run = append(run, s)
					break
				}
			}
		}
	}
	if len(run) == 0 {
		return fmt.Errorf("no side matches %q", only)
	}
	dir, err := os.MkdirTemp("", "actord-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	broker, addr, err := startBroker(root, dir)
	if err != nil {
		return err
	}
	defer func() {
		broker.Process.Signal(syscall.SIGTERM)
		broker.Wait()
	}()
	log.Printf("actord broker at %s (pid %d)", addr, broker.Process.Pid)
	machine := bench.ThisMachine()
	ctx := context.Background()
	env := bench.Connect(addr)
	topic := "peers"
	if err := env.CreateTopic(ctx, topic, partitions); err != nil {
		return err
	}
	t := time.Now()
	if err := env.Fill(ctx, topic, n, keys); err != nil {
		return err
	}
	log.Printf("%d records written in %v", n, time.Since(t).Round(time.Millisecond))
	self, err := os.Executable()
	if err != nil {
		return err
	}
	results := make(map[string][]result)
	loads := []string{bench.LoadAverage()}
	for round := range rounds {
		for j := range run {
			i := j
			if round%2 == 1 {
				i = len(run) - 1 - j
			}
			s := run[i]
			group := fmt.Sprintf("peers-%d-%d", round, i)
			r, err := runSide(ctx, self, s.name, addr, topic, group, n, timeout)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, s.name, err)
			}
			lag, err := groupLag(ctx, addr, group, topic)
			if err != nil {
				return fmt.Errorf("round %d, %s: lag: %w", round+1, s.name, err)
			}
			r.Lag = lag
			if lag != 0 {
				return fmt.Errorf("round %d, %s: lag %d after stop: not all offsets committed", round+1, s.name, lag)
			}
			log.Printf("round %d  %-34s %10.0f rec/s  %7.0f ns CPU/rec  join %v  stop %v  lag %d",
				round+1, s.name, r.rate(), float64(r.cpuPerRecord().Nanoseconds()), r.Join.Round(time.Millisecond), r.Stop.Round(time.Millisecond), lag)
			results[s.name] = append(results[s.name], r)
		}
		loads = append(loads, bench.LoadAverage())
	}
	md := report(machine, loads, run, results, n, rounds)
	fmt.Println(md)
	if out == "" {
		return nil
	}
	return writeSection(out, md)
}

// runSide runs one side in a child process and reads its result.
func runSide(ctx context.Context, self, name, addr, topic, group string, n int, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-child", name, "-addr", addr, "-topic", topic, "-group", group,
		"-n", fmt.Sprint(n), "-side-timeout", timeout.String())
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		return result{}, fmt.Errorf("child printed %q: %w", b, err)
	}
	return r, nil
}

// groupLag is the records of topic past group's committed offsets.
func groupLag(ctx context.Context, addr, group, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		if !ok || c.At < 0 {
			lag += o.Offset
			return
		}
		lag += o.Offset - c.At
	})
	return lag, nil
}
