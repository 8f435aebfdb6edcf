package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/actord/actord/bench"
)

// daemonRounds is how many rounds scenario 7 runs; each side's best is
// reported.
const daemonRounds = 3

// daemonScenario is scenario 7: the stock binary's log and forward
// handler kinds against kcat and a raw franz-go loop, over p.consumeN
// records.
func daemonScenario(ctx context.Context, e *bench.Env, p params) (bench.Table, error) {
	done := step(fmt.Sprintf("7. daemon throughput (building actord, writing %d records)", p.consumeN))
	d, err := e.NewDaemonBench(ctx, p.consumeN)
	if err != nil {
		return bench.Table{}, err
	}
	defer d.Close()
	sides := []bench.DaemonSide{bench.KcatSide, bench.DaemonLogSide, bench.RawForwardSide, bench.DaemonForwardSide}
	runs, err := d.CompareDaemon(ctx, sides, daemonRounds)
	if err != nil {
		return bench.Table{}, err
	}
	done()
	for i, rs := range runs {
		for _, r := range rs {
			fmt.Fprintf(os.Stderr, "report: 7. %s: %s records/s (%v)\n", sides[i], bench.Rate(r.Rate()), r.Span.Round(1e6))
		}
	}
	return bench.DaemonTable(p.consumeN, daemonRounds, runs), nil
}

// runOnly runs the scenario named (daemon: 7) alone on a broker of its
// own: -only, for working on one scenario without the whole run.
func runOnly(name string, p params) (*bench.Report, error) {
	alone := map[string]func(context.Context, *bench.Env, params) ([]bench.Table, error){
		"daemon": func(ctx context.Context, e *bench.Env, p params) ([]bench.Table, error) {
			t, err := daemonScenario(ctx, e, p)
			return []bench.Table{t}, err
		},
		"slow": func(ctx context.Context, e *bench.Env, p params) ([]bench.Table, error) {
			t, err := slowHandlers(ctx, e, p)
			return []bench.Table{t}, err
		},
		"produce": produceThroughput,
		"latency": func(ctx context.Context, e *bench.Env, p params) ([]bench.Table, error) {
			t, err := latency(ctx, e, p)
			return []bench.Table{t}, err
		},
	}
	scenario, ok := alone[name]
	if !ok {
		return nil, fmt.Errorf("-only %q: the scenarios that run alone are: daemon, exec, latency, produce, slow", name)
	}
	r := &bench.Report{Machine: bench.ThisMachine(), When: time.Now()}
	e, err := bench.Start()
	if err != nil {
		return nil, err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	ts, err := scenario(ctx, e, p)
	if err != nil {
		return nil, err
	}
	r.Tables = append(r.Tables, ts...)
	r.LoadAfter = bench.LoadAverage()
	return r, nil
}
