package bench

import (
	"context"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScenario1 runs only scenario 1 of make bench (consume throughput:
// 1,000,000 records of 100 B over 3 partitions, 1,000 keys, no-op
// handlers, the four sides of ConsumeSides(16), best of 5 rounds) on a
// broker of its own and logs its table. It is skipped unless
// ACTORD_SCENARIO1 is set (to a record count, or 1 for the full million):
//
//	ACTORD_SCENARIO1=1 go test -run TestScenario1 -count 3 -v ./bench/
//
// Ratios are comparable within one run; quote the median of several.
// ACTORD_SCENARIO1_ROUNDS sets the rounds, ACTORD_SCENARIO1_SIDES the
// sides beside the raw loop by letter ("c": key mode alone, to profile it),
// ACTORD_SCENARIO1_CPUPROFILE a file for a CPU profile of the rounds alone;
// ACTORD_SCENARIO1_RAWPOOL adds the raw loop with actord's record pool.
func TestScenario1(t *testing.T) {
	v := os.Getenv("ACTORD_SCENARIO1")
	if v == "" {
		t.Skip("set ACTORD_SCENARIO1 (1, or a record count) to run scenario 1 alone")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 1 {
		n = 1_000_000
	}
	rounds := 5
	if r, err := strconv.Atoi(os.Getenv("ACTORD_SCENARIO1_ROUNDS")); err == nil && r > 0 {
		rounds = r
	}
	e, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	topic := e.Name("scenario1")
	if err := e.CreateTopic(ctx, topic, 3); err != nil {
		t.Fatal(err)
	}
	if err := e.Fill(ctx, topic, n, 1000); err != nil {
		t.Fatal(err)
	}
	sides := ConsumeSides(16)
	if only := os.Getenv("ACTORD_SCENARIO1_SIDES"); only != "" {
		// Letters of the sides to run beside the raw loop (a), e.g. "c"
		// for key mode alone: for profiling one side.
		kept := sides[:1]
		for i, s := range sides[1:] {
			if strings.ContainsRune(only, rune('b'+i)) {
				kept = append(kept, s)
			}
		}
		sides = kept
	}
	if os.Getenv("ACTORD_SCENARIO1_RAWPOOL") != "" {
		// The raw loop with the record pool actord uses, last.
		sides = append(sides, Side{Name: "raw loop, pooled records", Raw: true, Pooled: true})
	}
	// The consume rounds alone, without the broker's fill.
	defer profileCPU(t, os.Getenv("ACTORD_SCENARIO1_CPUPROFILE"))()
	rs, err := e.CompareConsumers(ctx, sides, topic, n, rounds, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b testWriter
	ConsumeTable(n, rs, rounds).Text(&b)
	t.Log(string(b))
	base := rs[0].Rate()
	for _, r := range rs[1:] {
		t.Logf("ratio %-24s %.2f", r.Side.Name, r.Rate()/base)
	}
}

type testWriter []byte

func (w *testWriter) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }

// profileCPU starts a CPU profile written to path, unless path is empty,
// and returns what stops it.
func profileCPU(t *testing.T, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
