package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/actord/actord/bench"
)

const (
	beginMark = "<!-- BEGIN PEERS: make bench-peers rewrites from here to END PEERS -->"
	endMark   = "<!-- END PEERS -->"
	// generatedEnd is make bench's section end (bench/report.go): a
	// missing PEERS section goes after it, where make bench's rewrite
	// keeps the file as it is.
	generatedEnd = "<!-- END GENERATED -->"
)

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rateString(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2f M", r/1e6)
	default:
		return fmt.Sprintf("%.0f k", r/1e3)
	}
}

func durString(ns float64) string {
	if ns >= 1000 {
		return fmt.Sprintf("%.2f µs", ns/1000)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// report is the PEERS section's body.
func report(m bench.Machine, loads []string, run []side, results map[string][]result, n, rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Peers: other Go Kafka consumers, side by side\n\n")
	fmt.Fprintf(&b, "`make bench-peers` (module `bench/peers`, its own go.mod, so these clients are not actord's dependencies), run %s. "+
		"Machine: %s, %d logical CPUs, GOMAXPROCS %d, %s, %s, kernel %s. "+
		"Load average (1, 5, 15 min) before the run %s, after each round %s: the machine is shared with other agents' builds, tests and benchmarks, so the figures are noisy (compare the rounds).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), m.CPU, m.Cores, m.GOMAXPROCS, m.Go, m.OS, m.Kernel,
		loads[0], strings.Join(loads[1:], "; "))
	fmt.Fprintf(&b, "Method: one `actord broker` process (the embedded kfake broker, in memory, loopback) holds %s records of %d bytes "+
		"over %d partitions (%s keys), written once. Each side runs in a child process of its own under a fresh consumer group "+
		"and counts every record its handler gets; a side that does not get all %s (or gets a duplicate, or leaves any lag "+
		"committed after it stopped) fails the run. %d rounds, the order of the sides reversed every other round. "+
		"records/s is from the first record handled to the %s-th (so the group join and the first fetch's wait are not counted; "+
		"\"join\" is from the client's creation to the first record); CPU a record is the child process's user+system time (getrusage) "+
		"from before the client's creation to the last record, divided by the records: the broker's CPU is not in it. "+
		"Figures are medians of the rounds (best in brackets); the ratios are of the medians, to raw franz-go's (for CPU, above 1x is more CPU a record). "+
		"On a loaded machine records/s moves by 2x and more between rounds (each side gets what share of the 2 cores the other processes leave it); "+
		"CPU a record moves far less and is the steadier comparison.\n\n",
		thousands(n), bench.ValueSize, partitions, thousands(keys), thousands(n), rounds, thousands(n))
	var base float64
	if rs := results[sides[0].name]; len(rs) > 0 {
		base = median(rates(rs))
	}
	var baseCPU float64
	if rs := results[sides[0].name]; len(rs) > 0 {
		baseCPU = median(cpus(rs))
	}
	b.WriteString("| side | records/s, median (best) | against raw franz-go | CPU a record, median | CPU against raw franz-go | join, median | per round, records/s |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---|\n")
	for _, s := range run {
		rs := results[s.name]
		if len(rs) == 0 {
			continue
		}
		rt := rates(rs)
		var cpu, join []float64
		var per []string
		for _, r := range rs {
			cpu = append(cpu, float64(r.cpuPerRecord().Nanoseconds()))
			join = append(join, float64(r.Join.Milliseconds()))
			per = append(per, rateString(r.rate()))
		}
		ratio, cpuRatio := "—", "—"
		if base > 0 {
			ratio = fmt.Sprintf("%.2fx", median(rt)/base)
		}
		if baseCPU > 0 {
			cpuRatio = fmt.Sprintf("%.2fx", median(cpu)/baseCPU)
		}
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s | %s | %.0f ms | %s |\n", s.name, rateString(median(rt)), rateString(slices.Max(rt)),
			ratio, durString(median(cpu)), cpuRatio, median(join), strings.Join(per, ", "))
	}
	b.WriteString(targets(run, results, base))
	b.WriteString("\nHow each side consumes and commits (at-least-once: an offset is committed only after its record's handler returned):\n\n")
	for _, s := range run {
		fmt.Fprintf(&b, "- **%s**: %s.\n", s.name, s.settings)
	}
	b.WriteString(`
What could not be made equal:

- Fetch sizes: franz-go, actord, sarama and librdkafka take the per-partition limit (256 KiB) in one fetch request for all
  partitions; kafka-go fetches each partition on its own connection (its MaxBytes is that fetch's). librdkafka prefetches
  into its own queue (up to queued.min.messages a partition) in its threads, franz-go buffers a fetch ahead, sarama a fetch
  plus ChannelBufferSize (256) messages a partition, kafka-go QueueCapacity (100) messages; the buffer depths differ.
- Commit: everyone commits every second and at close, but what a commit covers differs: franz-go, actord, sarama and
  Watermill commit marks, librdkafka stored offsets (one cgo call a record to store), kafka-go queues every record's
  offset to its commit loop (a channel send a record).
- Delivery: raw franz-go and actord partition mode hand records over in fetched batches; sarama and Watermill deliver one
  message at a time over channels (Watermill also waits for each ack and allocates a message with metadata a record);
  librdkafka crosses cgo once a record for Poll; actord key mode dispatches records to 16 lanes by key.
- Buffering ahead: librdkafka stops fetching a partition whose local queue holds queued.min.messages (100,000) and, by
  default, waits fetch.queue.backoff.ms = 1 s before the next fetch; with the application draining faster than that the
  side ran at about 115k records/s, so it runs with 10 ms here (the documentation's advice). kafka-go's MaxWait is 1 s, not
  50 ms, because it is also the read deadline of a whole fetch (it timed out and reconnected at 50 ms under this load);
  with MinBytes 1 it only matters when a partition has nothing to fetch.
- Balancers: franz-go and actord run cooperative-sticky, sarama, Watermill and kafka-go range, librdkafka range,roundrobin;
  with one member the assignment is the same (all 3 partitions), only the join differs, which the records/s does not count.
- Protocol versions: each client negotiates its own with the broker (sarama is set to 2.8, Watermill's default 1.0 raised to the same).
- CPU: librdkafka's threads are in the child's CPU like every other client's goroutines; every Go side runs with the default
  GOGC (100), and librdkafka's own buffers are C memory outside the Go GC.
- Versions: only the listed releases were tried. OpenTelemetry resolves to v1.47.0, actord's own, which builds both
  watermill-kafka's otelsarama and protoactor-go; Watermill's tracing is off (OTELEnabled false, its default).
`)
	return b.String()
}

// targets is issue 19's lines: each side that has a target, its median
// records/s against raw franz-go's, met or missed.
func targets(run []side, results map[string][]result, base float64) string {
	var b strings.Builder
	for _, s := range run {
		rs := results[s.name]
		if s.target == 0 || len(rs) == 0 || base == 0 {
			continue
		}
		ratio := median(rates(rs)) / base
		verdict := "missed"
		if ratio >= s.target {
			verdict = "met"
		}
		fmt.Fprintf(&b, "- Target %s / raw franz-go >= %.1f (median of %d rounds): **%s** (%.2f)\n", s.name, s.target, len(rs), verdict, ratio)
	}
	if b.Len() == 0 {
		return ""
	}
	return "\n" + b.String()
}

func cpus(rs []result) []float64 {
	var out []float64
	for _, r := range rs {
		out = append(out, float64(r.cpuPerRecord().Nanoseconds()))
	}
	return out
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func rates(rs []result) []float64 {
	var out []float64
	for _, r := range rs {
		out = append(out, r.rate())
	}
	return out
}

// writeSection puts md between the PEERS markers of path; without them it
// goes right after make bench's generated section (or at the end).
func writeSection(path, md string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sec := beginMark + "\n\n" + md + "\n" + endMark
	var out []byte
	b, e := bytes.Index(old, []byte(beginMark)), bytes.Index(old, []byte(endMark))
	switch g := bytes.Index(old, []byte(generatedEnd)); {
	case b >= 0 && e > b:
		out = slices.Concat(old[:b], []byte(sec), old[e+len(endMark):])
	case g >= 0:
		at := g + len(generatedEnd)
		out = slices.Concat(old[:at], []byte("\n\n"+sec), old[at:])
	default:
		out = slices.Concat(old, []byte("\n"+sec+"\n"))
	}
	return os.WriteFile(path, out, 0o644)
}
