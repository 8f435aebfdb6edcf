package console

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Source is what the console reads and acts on: a runtime (package
// actors serves its console with one). The console depends on this interface,
// not on package actors, so that actors can serve the console on its
// listener without an import cycle.
type Source interface {
	// Status is a snapshot of the runtime's groups, consumers and owned
	// partitions, with the committed and end offsets the cluster reports.
	// It is called about once a second while someone watches the page.
	Status(ctx context.Context) (Status, error)
	// Client is a client that consumes nothing, on the runtime's cluster:
	// the console lists topics and offsets through it and seeds its
	// short-lived readers and package dlq's replays with its options. It
	// should not create topics (no kgo.AllowAutoTopicCreation): a look at
	// a topic that does not exist must not create it.
	Client() *kgo.Client
	// PauseConsumer stops fetching topic for group in this process until
	// ResumeConsumer; records already fetched finish, nothing is lost or
	// skipped, and the group keeps its partitions.
	PauseConsumer(group, topic string) error
	// ResumeConsumer undoes PauseConsumer.
	ResumeConsumer(group, topic string) error
}

// ValueDecoder is implemented by a Source that knows the schemas of some
// topics (*actors.Runtime: its consumers' Avro schemas). The dead-letter
// view shows a value it decodes beside the raw preview.
type ValueDecoder interface {
	// DecodeValue renders value, a record value of topic, as JSON text,
	// and reports false when it cannot. It must return within ctx.
	DecodeValue(ctx context.Context, topic string, value []byte) (string, bool)
}

// Partition states, as the page and GET /api/status spell them.
const (
	// StateRunning: records are fetched and handled.
	StateRunning = "running"
	// StateBackpressure: the partition is at its in-flight cap
	// (MaxInFlight); fetching it waits until its handlers catch up.
	StateBackpressure = "backpressure"
	// StatePaused: an operator paused the consumer (PauseConsumer).
	StatePaused = "paused"
	// StateDraining: the group is stopping; in-flight records finish and
	// are committed.
	StateDraining = "draining"
	// StateFailing: the partition's fetches (or commits) have kept
	// failing for a second or more; Partition.Error says how. It is what
	// /readyz reports.
	StateFailing = "failing"
	// StateCircuitOpen: the consumer's circuit breaker is open (its
	// downstream looks unavailable): records wait, one probe at a time.
	StateCircuitOpen = "circuit open"
	// StateStalled: the partition has lag but its committed offset has
	// not moved for StallAfter, while it was neither paused nor draining.
	// Set by the console from the history, never by a Source.
	StateStalled = "stalled"
)

// StallAfter is how long a partition with lag may keep its committed
// offset before the console calls it stalled.
const StallAfter = 30 * time.Second

// Status is one runtime's snapshot: the document of GET /api/status. A
// Source fills the fields without a "set by the console" note; the console
// adds the rest from its history.
type Status struct {
	// Service is the runtime's service name (actors.ServiceName).
	Service string `json:"service"`
	// Time is when the snapshot was taken.
	Time time.Time `json:"time"`
	// Admin is true when actions (replay, pause, resume) are on; set by
	// the console.
	Admin bool `json:"admin"`
	// Error is why the last snapshot failed, empty when it did not; set by
	// the console. The rest of the document is then the last good one.
	Error string `json:"error,omitempty"`
	// Groups are the consumer groups this process runs, by name.
	Groups []Group `json:"groups"`
}

// Group is one consumer group of the process.
type Group struct {
	Name string `json:"name"`
	// Member is this process's member ID in the group, empty before it
	// joined.
	Member string `json:"member"`
	// Joined is true once the group has had an assignment.
	Joined bool `json:"joined"`
	// Draining is true once the group is stopping.
	Draining  bool       `json:"draining"`
	Consumers []Consumer `json:"consumers"`
}

// Consumer is one topic consumed by one group.
type Consumer struct {
	Topic string `json:"topic"`
	Group string `json:"group"`
	// DeadLetterTopic is where exhausted records go, empty when
	// dead-lettering is off.
	DeadLetterTopic string `json:"dead_letter_topic,omitempty"`
	// EventDeadLetterTopics are, for the consumer of the events topic
	// (the event router), where its event handlers dead-letter (each On
	// handler has its own).
	EventDeadLetterTopics []string `json:"event_dead_letter_topics,omitempty"`
	// Ordering is partition, key or unordered.
	Ordering string `json:"ordering"`
	// Paused is true while an operator has paused the consumer.
	Paused bool `json:"paused"`
	// Circuit is the consumer's circuit breaker: "closed", "open", or
	// "off" when the consumer has none (actors.NoCircuit).
	Circuit string `json:"circuit"`
	// Counts are the consumer's counters since the process started.
	Counts Counts `json:"counts"`
	// Latency is the handler attempts' duration histogram since the
	// process started; the console turns it into Recent.
	Latency Histogram `json:"-"`
	// Recent is throughput and latency over the last minute; set by the
	// console.
	Recent Recent `json:"recent"`
	// Partitions are the partitions of Topic this process owns now.
	Partitions []Partition `json:"partitions"`
}

// Counts are a consumer's counters (actord_records_*_total).
type Counts struct {
	Received     uint64 `json:"received"`
	Handled      uint64 `json:"handled"`
	Failed       uint64 `json:"failed"`
	Retried      uint64 `json:"retried"`
	DeadLettered uint64 `json:"dead_lettered"`
}

// Histogram is a duration histogram: Counts[i] counts the durations in
// (Bounds[i-1], Bounds[i]] seconds, and the last slot, one past Bounds,
// those above every bound.
type Histogram struct {
	Bounds []float64
	Counts []uint64
}

// Recent is a consumer's rates and latency quantiles over a window of the
// console's history.
type Recent struct {
	// Seconds is the window's length (up to a minute; shorter just after
	// the start).
	Seconds float64 `json:"seconds"`
	// HandledPerSecond and the other rates are per second over the window.
	HandledPerSecond      float64 `json:"handled_per_second"`
	FailedPerSecond       float64 `json:"failed_per_second"`
	RetriedPerSecond      float64 `json:"retried_per_second"`
	DeadLetteredPerSecond float64 `json:"dead_lettered_per_second"`
	// P50Ms and P99Ms are the handler attempts' median and 99th
	// percentile in milliseconds over the window, estimated from the
	// histogram's buckets as Prometheus' histogram_quantile does; -1 when
	// no attempt ran in the window.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// Partition is one partition this process owns.
type Partition struct {
	Partition int32 `json:"partition"`
	// Committed is the group's committed offset (the next record to
	// handle), -1 when the group has committed none.
	Committed int64 `json:"committed"`
	// End is the partition's end offset (one past its last record), -1
	// when unknown.
	End int64 `json:"end"`
	// Lag is End minus Committed as the cluster reports it, -1 when
	// unknown.
	Lag int64 `json:"lag"`
	// LagMs is how old the oldest record not yet committed is, in
	// milliseconds: now minus the timestamp of the record at Committed; 0
	// without lag, -1 when unknown. Set by the console.
	LagMs int64 `json:"lag_ms"`
	// InFlight is the records fetched and not finished.
	InFlight int `json:"in_flight"`
	// State is one of the State constants.
	State string `json:"state"`
	// Error is, in StateFailing, what fails, since when and the last
	// error, as /readyz says it.
	Error string `json:"error,omitempty"`
}
