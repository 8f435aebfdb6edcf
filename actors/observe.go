package actors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/metrics"
	"github.com/actord/actord/partition"
)

// Metrics is the runtime's Prometheus instruments, for a service that
// serves them itself or adds its own.
func (rt *Runtime) Metrics() *metrics.Metrics { return rt.metrics }

// MetricsAddr is where /metrics, /healthz and /readyz are served, empty
// when http.listen is off or the runtime has not started.
func (rt *Runtime) MetricsAddr() string {
	if rt.httpSrv == nil {
		return ""
	}
	return rt.httpSrv.Addr()
}

// Ready reports nil when the runtime can reach the cluster, every
// consumer group has joined, and no partition's fetches or commits have
// kept failing for a second or more (until it fetches or commits again,
// or 10 s pass without an error); otherwise why not, naming the
// partitions.
func (rt *Runtime) Ready(ctx context.Context) error {
	if err := rt.prod.Ping(ctx); err != nil {
		return fmt.Errorf("broker unreachable: %w", err)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, name := range rt.order {
		if !rt.groups[name].joined.Load() {
			return fmt.Errorf("group %s has not joined", name)
		}
	}
	var trouble []string
	for _, name := range rt.order {
		g := rt.groups[name]
		for _, h := range []*fetchHealth{g.fetch, g.commit} {
			if s := h.trouble(); s != "" {
				trouble = append(trouble, fmt.Sprintf("group %s: %s", name, s))
			}
		}
	}
	if err := rt.stall.err(); err != nil {
		trouble = append(trouble, err.Error())
	}
	if len(trouble) > 0 {
		return errors.New(strings.Join(trouble, "; "))
	}
	if !rt.started {
		return errors.New("runtime not started")
	}
	return nil
}

// consumerMetrics are one consumer's instruments, resolved once.
type consumerMetrics struct {
	received, handled, failed, retried, dead prometheus.Counter
	duration                                 *metrics.Durations
}

func newConsumerMetrics(m *metrics.Metrics, topic, group string) *consumerMetrics {
	return &consumerMetrics{
		received: m.Received.WithLabelValues(topic, group),
		handled:  m.Handled.WithLabelValues(topic, group),
		failed:   m.Failed.WithLabelValues(topic, group),
		retried:  m.Retried.WithLabelValues(topic, group),
		dead:     m.DeadLettered.WithLabelValues(topic, group),
		duration: m.Duration.WithLabelValues(topic, group),
	}
}

func (cm *consumerMetrics) hooks() partition.Hooks {
	return partition.Hooks{
		Finished: func(handled, failed, retried, dead int) {
			cm.handled.Add(float64(handled))
			cm.failed.Add(float64(failed))
			cm.retried.Add(float64(retried))
			cm.dead.Add(float64(dead))
		},
		Attempts: func(timed []time.Duration, fast int, fastTotal time.Duration) {
			cm.duration.Observe(timed)
			cm.duration.ObserveFast(fast, fastTotal, partition.FastAttempt)
		},
	}
}

// produceHook counts what the runtime's producing client delivers. It is
// called once per record, so the per-topic counter is resolved once, as
// consumerMetrics does: the topic last counted is checked first (one
// pointer load and a string compare), then a map of the others.
type produceHook struct {
	m       *metrics.Metrics
	last    atomic.Pointer[topicCounter]
	byTopic sync.Map // topic -> *topicCounter
}

type topicCounter struct {
	topic    string
	produced prometheus.Counter
}

func newProduceHook(m *metrics.Metrics) *produceHook { return &produceHook{m: m} }

// OnProduceRecordUnbuffered implements kgo.HookProduceRecordUnbuffered.
func (h *produceHook) OnProduceRecordUnbuffered(r *kgo.Record, err error) {
	if err != nil {
		h.m.ProduceErrs.WithLabelValues(r.Topic).Inc()
		return
	}
	h.produced(r.Topic).Inc()
}

func (h *produceHook) produced(topic string) prometheus.Counter {
	if c := h.last.Load(); c != nil && c.topic == topic {
		return c.produced
	}
	v, ok := h.byTopic.Load(topic)
	if !ok {
		v, _ = h.byTopic.LoadOrStore(topic, &topicCounter{topic: topic, produced: h.m.Produced.WithLabelValues(topic)})
	}
	c := v.(*topicCounter)
	h.last.Store(c)
	return c.produced
}

var _ kgo.HookProduceRecordUnbuffered = (*produceHook)(nil)

// partitionStats reports every assigned partition's in-flight records and
// lag (end offset minus committed, as the cluster reports them).
func (rt *Runtime) partitionStats() []metrics.PartitionStat {
	rt.mu.Lock()
	groups := make([]*group, 0, len(rt.order))
	for _, name := range rt.order {
		groups = append(groups, rt.groups[name])
	}
	rt.mu.Unlock()
	var out []metrics.PartitionStat
	for _, g := range groups {
		g.mu.Lock()
		cl := g.cl
		g.mu.Unlock()
		if cl == nil {
			continue // not started yet
		}
		lags := map[tp]int64{}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		l, err := kadm.NewClient(cl).Lag(ctx, g.name)
		cancel()
		if err == nil {
			l.Each(func(dl kadm.DescribedGroupLag) {
				for topic, ps := range dl.Lag {
					for p, gl := range ps {
						if gl.Err == nil {
							lags[tp{topic, p}] = gl.Lag
						}
					}
				}
			})
		}
		now := time.Now()
		g.mu.Lock()
		for k, h := range g.parts {
			lag, ok := lags[k]
			if !ok {
				lag = -1
			}
			ageS := -1.0
			if d, ok := h.LagTime(now); ok {
				ageS = d.Seconds()
			}
			out = append(out, metrics.PartitionStat{Group: g.name, Topic: k.topic, Partition: k.partition, InFlight: h.InFlight(), Lag: lag, LagSeconds: ageS})
		}
		g.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	return out
}
