// Package metrics owns actord's Prometheus instruments: records received,
// handled, failed, retried and dead-lettered per topic and group, handler
// durations, in-flight records and consumer lag per partition, rebalances,
// records produced and produce errors, plus franz-go's own client metrics
// (kprom), all on one registry served at /metrics beside /healthz and
// /readyz.
package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// Metrics holds the runtime's instruments. The zero value is not usable:
// build it with New. Every method is safe for concurrent use.
type Metrics struct {
	// Registry is where the instruments are registered and gathered from:
	// the runtime's private registry, or the service's (MetricsRegisterer).
	Registry RegistererGatherer

	Received      *prometheus.CounterVec
	Handled       *prometheus.CounterVec
	Failed        *prometheus.CounterVec
	Retried       *prometheus.CounterVec
	DeadLettered  *prometheus.CounterVec
	Duration      *DurationVec
	Rebalances    *prometheus.CounterVec
	Produced      *prometheus.CounterVec
	ProduceErrs   *prometheus.CounterVec
	EventsSkipped prometheus.Counter
	// DeadLetterStubs counts dead letters written as stubs (coordinates
	// only) because the broker refused the record itself for good.
	DeadLetterStubs *prometheus.CounterVec
	// CircuitState is each consumer's circuit breaker: 1 open, 0 closed;
	// CircuitOpened and CircuitClosed count its openings and closings.
	CircuitState                 *prometheus.GaugeVec
	CircuitOpened, CircuitClosed *prometheus.CounterVec
	// PartitionStalled is 1 for a partition whose committed offset has
	// not moved for the stall timeout while it has records in flight.
	PartitionStalled *prometheus.GaugeVec
}

// RegistererGatherer is a registry the instruments are registered on and
// scraped from, as *prometheus.Registry is.
type RegistererGatherer interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// New builds the instruments on reg, or, with a nil reg, on a fresh
// private registry with Go and process collectors. A reg that is not a
// Gatherer (not scrapable through it) is scraped through nothing: the
// service serves it. Instruments register once per registry: two runtimes
// need two registries.
func New(reg prometheus.Registerer) *Metrics {
	var rg RegistererGatherer
	switch r := reg.(type) {
	case nil:
		own := prometheus.NewRegistry()
		own.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		rg = own
	case RegistererGatherer:
		rg = r
	default:
		rg = registerOnly{r}
	}
	tg := []string{"topic", "group"}
	m := &Metrics{
		Registry: rg,
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_records_received_total",
			Help: "Records fetched and handed to partition actors."}, tg),
		Handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_records_handled_total",
			Help: "Records whose handler succeeded."}, tg),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_records_failed_total",
			Help: "Failed handler attempts (each attempt counts)."}, tg),
		Retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_records_retried_total",
			Help: "Failed attempts that were scheduled for a retry."}, tg),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_records_dead_lettered_total",
			Help: "Records written to a dead-letter topic (or skipped where dead-lettering is off)."}, tg),
		Duration: NewDurationVec("actord_handler_duration_seconds", "Duration of one handler attempt.",
			prometheus.ExponentialBuckets(0.0005, 2, 16)),
		Rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_rebalances_total",
			Help: "Partition assignments, revocations and losses seen by each group, and topics subscribed afresh because their topic ID changed (kind recreated)."}, []string{"group", "kind"}),
		Produced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_records_produced_total",
			Help: "Records acknowledged by the cluster."}, []string{"topic"}),
		ProduceErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_produce_errors_total",
			Help: "Records that failed to produce."}, []string{"topic"}),
		DeadLetterStubs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_dead_letter_stubs_total",
			Help: "Dead letters written as stubs (the record's coordinates, no key or value) because the broker refused the record for good, e.g. too large."}, []string{"dlq"}),
		CircuitState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "actord_circuit_state",
			Help: "Each consumer's circuit breaker: 1 open (the downstream looks unavailable; records wait, one probe at a time), 0 closed."}, tg),
		CircuitOpened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_circuit_opened_total",
			Help: "Times a consumer's circuit breaker opened."}, tg),
		CircuitClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "actord_circuit_closed_total",
			Help: "Times a consumer's circuit breaker closed after a successful probe."}, tg),
		PartitionStalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "actord_partition_stalled",
			Help: "1 while an assigned partition with records in flight has not committed for the stall timeout (runtime.stall_timeout), else 0."}, []string{"group", "topic", "partition"}),
		EventsSkipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "actord_events_skipped_total",
			Help: "Events that had no handler in this service: committed and skipped."}),
	}
	rg.MustRegister(m.Received, m.Handled, m.Failed, m.Retried, m.DeadLettered, m.Duration,
		m.Rebalances, m.Produced, m.ProduceErrs, m.EventsSkipped, m.DeadLetterStubs,
		m.CircuitState, m.CircuitOpened, m.CircuitClosed, m.PartitionStalled)
	return m
}

// registerOnly is a Registerer with nothing to gather: the service that
// owns it scrapes it.
type registerOnly struct{ prometheus.Registerer }

func (registerOnly) Gather() ([]*dto.MetricFamily, error) { return nil, nil }

// KafkaHook returns franz-go's client metrics (actord_kafka_*) for one
// client, labelled client=role; pass it to the client with kgo.WithHooks.
// Each client needs its own role. The hook belongs to the first client
// built with it: a client made later from that client's options (as
// package dlq makes for its reads) counts into the same metrics without
// registering them again or unregistering them when it closes.
func (m *Metrics) KafkaHook(role string) kgo.Hook {
	return &ownedHook{Metrics: kprom.NewMetrics("actord_kafka", kprom.Registry(m.Registry),
		kprom.WithStaticLabel(prometheus.Labels{"client": role}))}
}

// ownedHook is a kprom hook that only its first client registers and
// unregisters; every other hook of kprom passes through.
type ownedHook struct {
	*kprom.Metrics
	owner atomic.Pointer[kgo.Client]
}

// OnNewClient registers the metrics for the first client only.
func (h *ownedHook) OnNewClient(cl *kgo.Client) {
	if h.owner.CompareAndSwap(nil, cl) {
		h.Metrics.OnNewClient(cl)
	}
}

// OnClientClosed unregisters the metrics when the first client closes.
func (h *ownedHook) OnClientClosed(cl *kgo.Client) {
	if h.owner.Load() == cl {
		h.Metrics.OnClientClosed(cl)
	}
}

// PartitionStat is one assigned partition's state at scrape time.
type PartitionStat struct {
	Group, Topic string
	Partition    int32
	InFlight     int
	// Lag is end offset minus committed offset; negative when unknown.
	Lag int64
	// LagSeconds is the age of the oldest record in flight (not yet
	// finished, so not yet committed), from record timestamps; negative
	// when none is in flight.
	LagSeconds float64
}

// PartitionSource reports every assigned partition at scrape time.
type PartitionSource func() []PartitionStat

// RegisterPartitions adds the per-partition gauges actord_in_flight_records,
// actord_consumer_lag and actord_consumer_lag_seconds, read from src at
// each scrape.
func (m *Metrics) RegisterPartitions(src PartitionSource) {
	m.Registry.MustRegister(&partitionCollector{src: src})
}

var (
	inFlightDesc = prometheus.NewDesc("actord_in_flight_records",
		"Fetched records not yet finished, per assigned partition.", []string{"group", "topic", "partition"}, nil)
	lagDesc = prometheus.NewDesc("actord_consumer_lag",
		"End offset minus committed offset, per assigned partition.", []string{"group", "topic", "partition"}, nil)
	lagSecondsDesc = prometheus.NewDesc("actord_consumer_lag_seconds",
		"Age of the oldest record fetched and not yet finished (so not yet committed), from record timestamps, to within one fetched batch, per assigned partition; absent while none is in flight.",
		[]string{"group", "topic", "partition"}, nil)
)

type partitionCollector struct{ src PartitionSource }

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inFlightDesc
	ch <- lagDesc
	ch <- lagSecondsDesc
}

func (c *partitionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src() {
		p := itoa(s.Partition)
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(s.InFlight), s.Group, s.Topic, p)
		if s.Lag >= 0 {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(s.Lag), s.Group, s.Topic, p)
		}
		if s.LagSeconds >= 0 {
			ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, s.LagSeconds, s.Group, s.Topic, p)
		}
	}
}

func itoa(n int32) string {
	if n == 0 {
		return "0"
	}
	var b [11]byte
	i := len(b)
	neg := n < 0
	u := int64(n)
	if neg {
		u = -u
	}
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
