// Command report runs actord's benchmark scenarios side by side with raw
// franz-go on one embedded broker, prints a table per scenario and writes
// bench/RESULTS.md. `make bench` runs it after the Go benchmarks.
//
//	go run ./bench/cmd/report [-short] [-out bench/RESULTS.md] [-gobench bench/gobench.txt] [-only daemon|exec|latency|produce|slow]
//
// -short (or ACTORD_BENCH_SHORT=1) cuts the record counts for a quick run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/bench"
)

type params struct {
	consumeN, produceN, slowN int
	// rounds is scenario 3's: 9, as scenario 1's, since a produce run of
	// 500,000 records moved 520-720 ms within one process here, and the
	// best of 5 moved the JSON ratio 0.76-0.98 between runs.
	rounds int
	// consumeRounds is scenario 1's: each round of 1,000,000 records
	// takes under 200 ms here, short enough that one busy moment of the
	// shared machine moves a median of 5.
	consumeRounds         int
	latencyFor, memoryFor time.Duration

	// execN and execStreamN are scenario 6's records per round for
	// per-record exec and for the stream sides (execstream.go).
	execN, execStreamN int
}

func main() {
	short := flag.Bool("short", os.Getenv("ACTORD_BENCH_SHORT") != "", "reduced record counts, for a quick run")
	out := flag.String("out", "bench/RESULTS.md", "results file to write (empty: none)")
	gobench := flag.String("gobench", "", "go test -bench output to include in the results")
	child := flag.String("child", "", "internal: run one memory measurement (raw or actord) and print it as JSON")
	addr := flag.String("addr", "", "internal: the parent's broker")
	topic := flag.String("topic", "", "internal: the backlog topic")
	group := flag.String("group", "", "internal: the consumer group")
	maxInFlight := flag.Int("max-in-flight", 0, "internal: the actord side's cap")
	dur := flag.Duration("for", 0, "internal: how long to consume")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run (the bench process only: not the daemon's or exec's children) to this file")
	only := flag.String("only", "", "run only this scenario (consume (with memory), daemon, exec, latency, produce, slow), on a broker of its own")
	flag.Parse()

	if *child != "" {
		if err := memoryChild(*child, *addr, *topic, *group, *maxInFlight, *dur); err != nil {
			fmt.Fprintln(os.Stderr, "report: memory child:", err)
			os.Exit(1)
		}
		return
	}
	p := params{consumeN: 1_000_000, produceN: 500_000, slowN: 10_000, rounds: 9, consumeRounds: 9, latencyFor: 10 * time.Second, memoryFor: 6 * time.Second,
		execN: 3_000, execStreamN: 200_000}
	if *short {
		p = params{consumeN: 100_000, produceN: 50_000, slowN: 2_000, rounds: 2, consumeRounds: 2, latencyFor: 2 * time.Second, memoryFor: 3 * time.Second,
			execN: 500, execStreamN: 20_000}
	}
	run := run
	if *only != "" {
		run = func(p params) (*bench.Report, error) { return runOnly(*only, p) }
	}
	if *only == "exec" { // scenario 6 alone (bench.ExecAlone)
		run = func(p params) (*bench.Report, error) {
			return bench.ExecAlone(context.Background(), p.execN, p.execStreamN, execRounds)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "report: -cpuprofile:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	r, err := run(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	r.Short = *short
	if *gobench != "" {
		b, err := os.ReadFile(*gobench)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		r.GoBench = string(b)
	}
	r.Text(os.Stdout)
	if *out != "" {
		if err := r.WriteResults(*out); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		fmt.Printf("\nwrote %s\n", *out)
	}
}

const slowWork = time.Millisecond

func sleepWork() { time.Sleep(slowWork) }

// run runs the scenarios on one embedded broker, in the order that keeps
// each one's measurement clean (the memory children share scenario 1's
// backlog, which goes before the latency-sensitive ones), and returns the
// report with its tables in scenario order.
func run(p params) (*bench.Report, error) {
	return onBroker(func(ctx context.Context, e *bench.Env) ([]bench.Table, error) {
		consumeTable, memoryTable, err := backlogScenarios(ctx, e, p)
		if err != nil {
			return nil, err
		}
		slowTable, err := slowHandlers(ctx, e, p)
		if err != nil {
			return nil, err
		}
		produceTables, err := produceThroughput(ctx, e, p)
		if err != nil {
			return nil, err
		}
		latencyTable, err := latency(ctx, e, p)
		if err != nil {
			return nil, err
		}
		execTable, err := execScenario(ctx, e, p)
		if err != nil {
			return nil, err
		}
		daemonTable, err := daemonScenario(ctx, e, p)
		if err != nil {
			return nil, err
		}
		tables := append([]bench.Table{consumeTable, slowTable}, produceTables...)
		return append(tables, latencyTable, memoryTable, execTable, daemonTable), nil
	})
}

// onBroker runs scenarios on an embedded broker of their own, within 15
// minutes, and reports their tables with the machine and the load after.
func onBroker(scenarios func(context.Context, *bench.Env) ([]bench.Table, error)) (*bench.Report, error) {
	r := &bench.Report{Machine: bench.ThisMachine(), When: time.Now()}
	e, err := bench.Start()
	if err != nil {
		return nil, err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if r.Tables, err = scenarios(ctx, e); err != nil {
		return nil, err
	}
	r.LoadAfter = bench.LoadAverage()
	return r, nil
}

// step prints what on stderr and returns the func that prints how long it
// took.
func step(what string) func() {
	fmt.Fprintf(os.Stderr, "report: %s...", what)
	t0 := time.Now()
	return func() { fmt.Fprintf(os.Stderr, " %v\n", time.Since(t0).Round(time.Millisecond)) }
}

// backlogScenarios writes one backlog and runs the two scenarios over it:
// 1, consume throughput, and 5, memory, each measurement in a child
// process. The broker keeps every record in memory: the backlog is deleted
// after them, before the latency-sensitive scenarios.
func backlogScenarios(ctx context.Context, e *bench.Env, p params) (consume, memory bench.Table, err error) {
	backlog := e.Name("consume")
	if err := e.CreateTopic(ctx, backlog, 3); err != nil {
		return bench.Table{}, bench.Table{}, err
	}
	done := step(fmt.Sprintf("writing %d records", p.consumeN))
	if err := e.Fill(ctx, backlog, p.consumeN, 1000); err != nil {
		return bench.Table{}, bench.Table{}, err
	}
	done()
	done = step("1. consume throughput")
	cons, err := e.CompareConsumers(ctx, bench.ConsumeSides(16), backlog, p.consumeN, p.consumeRounds, nil)
	if err != nil {
		return bench.Table{}, bench.Table{}, err
	}
	done()
	mems, err := memoryScenario(ctx, e, backlog, p.memoryFor)
	if err != nil {
		return bench.Table{}, bench.Table{}, err
	}
	if err := e.DeleteTopic(ctx, backlog); err != nil {
		return bench.Table{}, bench.Table{}, err
	}
	return bench.ConsumeTable(p.consumeN, cons, p.consumeRounds), bench.MemoryTable(p.consumeN, p.memoryFor, slowWork, mems), nil
}

// memoryScenario is scenario 5: the raw loop and actord at two in-flight
// caps, each consuming backlog slowly for d in a child process.
func memoryScenario(ctx context.Context, e *bench.Env, backlog string, d time.Duration) ([]bench.MemoryResult, error) {
	done := step("5. memory")
	var mems []bench.MemoryResult
	for _, c := range []struct {
		side string
		cap  int
	}{{"raw", 0}, {"actord", 1000}, {"actord", 100_000}} {
		m, err := spawnMemoryChild(ctx, c.side, e.Addr, backlog, e.Name("memory"), c.cap, d)
		if err != nil {
			return nil, err
		}
		mems = append(mems, m)
	}
	done()
	return mems, nil
}

// slowHandlers is scenario 2: the actord modes over records whose handler
// takes slowWork each.
func slowHandlers(ctx context.Context, e *bench.Env, p params) (bench.Table, error) {
	done := step("2. slow handlers")
	slow := e.Name("slow")
	if err := e.CreateTopic(ctx, slow, 3); err != nil {
		return bench.Table{}, err
	}
	if err := e.Fill(ctx, slow, p.slowN, 1000); err != nil {
		return bench.Table{}, err
	}
	slowSides := []bench.Side{
		{Name: "actord partition mode", Ordering: actors.ByPartition},
		{Name: "actord key mode c64", Ordering: actors.ByKey, Concurrency: 64},
		{Name: "actord unordered c64", Ordering: actors.Unordered, Concurrency: 64},
	}
	slows, err := e.CompareConsumers(ctx, slowSides, slow, p.slowN, 1, sleepWork)
	if err != nil {
		return bench.Table{}, err
	}
	done()
	if err := e.DeleteTopic(ctx, slow); err != nil {
		return bench.Table{}, err
	}
	return bench.SlowTable(p.slowN, slowWork, slows), nil
}

// produceThroughput is scenario 3, produce throughput, and 3b, Avro
// against JSON in the codec benchmarks: their two tables.
func produceThroughput(ctx context.Context, e *bench.Env, p params) ([]bench.Table, error) {
	done := step("3. produce throughput")
	prods, err := e.CompareProducers(ctx, bench.ProduceSides(), p.produceN, 1000, p.rounds)
	if err != nil {
		return nil, err
	}
	done()
	done = step("3b. codecs")
	var names []string
	var results []testing.BenchmarkResult
	for _, c := range bench.CodecBenchmarks() {
		names = append(names, c.Name)
		results = append(results, testing.Benchmark(c.F))
	}
	done()
	return []bench.Table{bench.ProduceTable(p.produceN, prods, p.rounds), bench.CodecTable(names, results)}, nil
}

// latencyRounds is how many times each latency side runs, alternated:
// four sides of 10 s each a round.
const latencyRounds = 3

// latency is scenario 4: produce-to-handler latency at 1,000 records per
// second for p.latencyFor, the sides alternated for latencyRounds rounds,
// on a broker of its own, as with -only latency: the clients talk to a
// cluster with no earlier scenario's topics, groups and records (the
// shared broker, and what it holds, stays in this process meanwhile).
// Each side's row is its median round by p99.
func latency(ctx context.Context, _ *bench.Env, p params) (bench.Table, error) {
	done := step("4. latency")
	e, err := bench.Start()
	if err != nil {
		return bench.Table{}, err
	}
	defer e.Close()
	runtime.GC()
	lats, err := e.CompareLatency(ctx, bench.LatencySides(), 1000, p.latencyFor, latencyRounds)
	if err != nil {
		return bench.Table{}, err
	}
	done()
	return bench.LatencyTable(1000, p.latencyFor, latencyRounds, lats), nil
}

// memorySide is the consumer a memory child runs: the raw loop, or actord
// in key mode with concurrency 16 and the given cap.
func memorySide(side string, maxInFlight int) (bench.Side, error) {
	switch side {
	case "raw":
		return bench.Side{Name: "raw franz-go poll loop", Raw: true}, nil
	case "actord":
		return bench.Side{Name: "actord key mode c16", Ordering: actors.ByKey, Concurrency: 16, MaxInFlight: maxInFlight}, nil
	}
	return bench.Side{}, fmt.Errorf("unknown side %q", side)
}

func spawnMemoryChild(ctx context.Context, side, addr, topic, group string, maxInFlight int, d time.Duration) (bench.MemoryResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return bench.MemoryResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "-child", side, "-addr", addr, "-topic", topic, "-group", group,
		"-max-in-flight", strconv.Itoa(maxInFlight), "-for", d.String())
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return bench.MemoryResult{}, fmt.Errorf("memory child %s: %w", side, err)
	}
	var m bench.MemoryResult
	if err := json.Unmarshal(outb, &m); err != nil {
		return bench.MemoryResult{}, fmt.Errorf("memory child %s: %w", side, err)
	}
	return m, nil
}

func memoryChild(side, addr, topic, group string, maxInFlight int, d time.Duration) error {
	s, err := memorySide(side, maxInFlight)
	if err != nil {
		return err
	}
	m, err := bench.Connect(addr).SlowConsumerMemory(s, topic, group, d, sleepWork)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(m)
}
