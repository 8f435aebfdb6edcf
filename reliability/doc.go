// Package reliability holds actord's fault-injection tests: a consumer
// process killed mid-stream, consumer processes of one group started and
// stopped at random, the embedded broker restarted under load, bad
// input at the command line, and a key-mode consumer killed while one key
// holds its partition back. Each scenario prints its figures (records
// sent, handled, lost, duplicated) when it ends.
//
// `make test` runs the quick variants; `make test-long` (ACTORD_LONG=1)
// runs the same scenarios with 100,000 records and more churn.
// docs/reliability.md describes the scenarios and the figures of the last
// run.
package reliability
