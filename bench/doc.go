// Package bench measures actord against a hand-rolled franz-go client,
// both sides in one process run, on one embedded broker and the same data:
// consume throughput, slow-handler concurrency, produce throughput,
// produce-to-handler latency and memory under a backlog. The scenarios
// back `make bench` (the report command in bench/cmd/report, which writes
// bench/RESULTS.md) and the testing.B benchmarks beside them, which run
// only with -bench so that `go test ./...` stays fast.
package bench
