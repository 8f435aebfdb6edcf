package main

import (
	"context"
	"fmt"
	"os"

	"github.com/actord/actord/bench"
)

// daemonRounds is how many rounds scenario 7 runs; each side's best is
// reported. Five, not the three: a forward run lasts about a
// second, and with three the best of either side moved the ratio by 0.15
// between runs on this shared machine (0.77-0.95 on one commit).
const daemonRounds = 5

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
	type scenario = func(context.Context, *bench.Env, params) ([]bench.Table, error)
	one := func(f func(context.Context, *bench.Env, params) (bench.Table, error)) scenario {
		return func(ctx context.Context, e *bench.Env, p params) ([]bench.Table, error) {
			t, err := f(ctx, e, p)
			return []bench.Table{t}, err
		}
	}
	alone := map[string]scenario{
		"daemon":  one(daemonScenario),
		"slow":    one(slowHandlers),
		"produce": produceThroughput,
		"latency": one(latency),
		"consume": func(ctx context.Context, e *bench.Env, p params) ([]bench.Table, error) {
			consume, memory, err := backlogScenarios(ctx, e, p)
			return []bench.Table{consume, memory}, err
		},
	}
	s, ok := alone[name]
	if !ok {
		return nil, fmt.Errorf("-only %q: the scenarios that run alone are: consume (with memory), daemon, exec, latency, produce, slow", name)
	}
	return onBroker(func(ctx context.Context, e *bench.Env) ([]bench.Table, error) { return s(ctx, e, p) })
}
