package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/console"
)

// statusTimeout bounds the offsets a Status asks the cluster for, per
// group, when the caller's context has no earlier deadline.
const statusTimeout = 3 * time.Second

// Status is a read-only snapshot of the runtime: every consumer group it
// runs, each consumer's counters and handler-latency histogram, and each
// partition it owns now with its committed and end offsets, lag,
// in-flight records and state (running, backpressure, paused, draining,
// circuit open).
// It is what the status console at / and GET /api/status show (the types
// live in package console so that the page and the API share one
// definition).
//
// It costs one offset fetch and one list of end offsets per group
// (kadm's Lag), each bounded by 3 s; a group whose offsets could not be
// read has -1 in their place and the error is returned beside the rest.
func (rt *Runtime) Status(ctx context.Context) (console.Status, error) {
	st := console.Status{Service: rt.s.service, Time: time.Now()}
	hists := rt.latencies()
	rt.mu.Lock()
	router := rt.router
	rt.mu.Unlock()
	var errs []error
	for _, g := range rt.groupList() {
		gs := console.Group{Name: g.name, Joined: g.joined.Load(), Draining: g.closing.Load()}
		var lag kadm.GroupLag
		var paused []string
		if g.cl != nil {
			gs.Member, _ = g.cl.GroupMetadata()
			paused = g.cl.PauseFetchTopics()
			lctx, cancel := context.WithTimeout(ctx, statusTimeout)
			l, err := kadm.NewClient(g.cl).Lag(lctx, g.name)
			cancel()
			if err == nil {
				err = l.Error()
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("group %s: offsets: %w", g.name, err))
			} else if dl, ok := l[g.name]; ok {
				lag = dl.Lag
			}
		}
		g.mu.Lock()
		owned := map[string][]console.Partition{}
		for k, h := range g.parts {
			p := console.Partition{Partition: k.partition, Committed: -1, End: -1, Lag: -1, LagMs: -1, InFlight: h.InFlight(), State: console.StateRunning}
			if gl, ok := lag.Lookup(k.topic, k.partition); ok {
				p.Committed = gl.Commit.At
				if gl.End.Err == nil {
					p.End = gl.End.Offset
				}
				if gl.Err == nil {
					p.Lag = gl.Lag
				}
			}
			// A partition paused for backpressure is neither full nor
			// has room (partition.Handle's Full and HasRoom).
			if !h.Full() && !h.HasRoom() {
				p.State = console.StateBackpressure
			}
			// Fetches or commits failing for a while, as Ready reports
			// them (fetchHealth).
			for _, fh := range []*fetchHealth{g.fetch, g.commit} {
				if why := fh.troubleOf(k); why != "" && p.Error == "" {
					p.State, p.Error = console.StateFailing, why
				}
			}
			owned[k.topic] = append(owned[k.topic], p)
		}
		g.mu.Unlock()
		for _, topic := range g.topics() {
			c := g.consumers()[topic]
			cs := console.Consumer{Topic: topic, Group: g.name, Ordering: c.opts.ordering.String(),
				Paused: slices.Contains(paused, topic), Counts: c.m.counts(), Latency: hists[[2]string{topic, g.name}]}
			if !c.opts.noDeadLetter {
				cs.DeadLetterTopic = c.opts.deadLetter
			}
			switch {
			case c.circuit == nil:
				cs.Circuit = "off"
			case c.circuit.Open():
				cs.Circuit = "open"
			default:
				cs.Circuit = "closed"
			}
			if r := router; r != nil && topic == rt.s.eventsTopic && g.name == rt.s.eventsGroup {
				cs.EventDeadLetterTopics = r.deadLetterTopics()
			}
			ps := owned[topic]
			sort.Slice(ps, func(i, j int) bool { return ps[i].Partition < ps[j].Partition })
			for i := range ps {
				switch {
				case gs.Draining:
					ps[i].State = console.StateDraining
				case cs.Paused:
					ps[i].State = console.StatePaused
				case cs.Circuit == "open":
					ps[i].State = console.StateCircuitOpen
				}
			}
			cs.Partitions = ps
			gs.Consumers = append(gs.Consumers, cs)
		}
		sort.Slice(gs.Consumers, func(i, j int) bool { return gs.Consumers[i].Topic < gs.Consumers[j].Topic })
		st.Groups = append(st.Groups, gs)
	}
	sort.Slice(st.Groups, func(i, j int) bool { return st.Groups[i].Name < st.Groups[j].Name })
	if len(errs) > 0 {
		return st, fmt.Errorf("status: %w", joinErrs(errs))
	}
	return st, nil
}

// PauseConsumer stops fetching topic for group in this process until
// ResumeConsumer: records already fetched are handled and committed,
// nothing is skipped, and the group keeps its partitions (the member
// stays in the group and heartbeats, so no rebalance follows). The pause
// is the client's (kgo's PauseFetchTopics), independent of the
// per-partition pauses of backpressure, and lasts until resumed or the
// runtime stops. It is an error for a group or topic this runtime does
// not consume, or before Start.
func (rt *Runtime) PauseConsumer(group, topic string) error {
	g, err := rt.consumerGroup(group, topic)
	if err != nil {
		return err
	}
	g.cl.PauseFetchTopics(topic)
	g.log.Info("consumer paused by an operator", "topic", topic)
	return nil
}

// ResumeConsumer resumes a consumer paused with PauseConsumer; resuming
// one that is not paused does nothing.
func (rt *Runtime) ResumeConsumer(group, topic string) error {
	g, err := rt.consumerGroup(group, topic)
	if err != nil {
		return err
	}
	g.cl.ResumeFetchTopics(topic)
	g.log.Info("consumer resumed by an operator", "topic", topic)
	return nil
}

func (rt *Runtime) consumerGroup(group, topic string) (*group, error) {
	rt.mu.Lock()
	g := rt.groups[group]
	rt.mu.Unlock()
	switch {
	case g == nil:
		return nil, fmt.Errorf("no consumer group %q in this runtime", group)
	case g.consumers()[topic] == nil:
		return nil, fmt.Errorf("group %q has no consumer of topic %q", group, topic)
	case g.cl == nil:
		return nil, fmt.Errorf("group %q has not started", group)
	}
	return g, nil
}

// groupList is the runtime's groups in declaration order.
func (rt *Runtime) groupList() []*group {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	gs := make([]*group, 0, len(rt.order))
	for _, name := range rt.order {
		gs = append(gs, rt.groups[name])
	}
	return gs
}

// counts reads the consumer's counters.
func (cm *consumerMetrics) counts() console.Counts {
	return console.Counts{Received: value(cm.received), Handled: value(cm.handled), Failed: value(cm.failed),
		Retried: value(cm.retried), DeadLettered: value(cm.dead)}
}

func value(c prometheus.Counter) uint64 {
	var m dto.Metric
	if c.Write(&m) != nil {
		return 0
	}
	return uint64(m.GetCounter().GetValue())
}

// latencies collects the handler-duration histograms by topic and group,
// through the collector's own scrape (metrics.DurationVec builds them at
// scrape time), with per-bucket counts.
func (rt *Runtime) latencies() map[[2]string]console.Histogram {
	ch := make(chan prometheus.Metric, 16)
	go func() {
		rt.metrics.Duration.Collect(ch)
		close(ch)
	}()
	out := map[[2]string]console.Histogram{}
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil || d.Histogram == nil {
			continue
		}
		var k [2]string
		for _, l := range d.GetLabel() {
			switch l.GetName() {
			case "topic":
				k[0] = l.GetValue()
			case "group":
				k[1] = l.GetValue()
			}
		}
		var h console.Histogram
		var prev uint64
		for _, b := range d.Histogram.GetBucket() {
			h.Bounds = append(h.Bounds, b.GetUpperBound())
			h.Counts = append(h.Counts, b.GetCumulativeCount()-prev)
			prev = b.GetCumulativeCount()
		}
		h.Counts = append(h.Counts, d.Histogram.GetSampleCount()-prev)
		out[k] = h
	}
	return out
}

func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%v (and %d more)", errs[0], len(errs)-1)
}

// ConsoleAdmin turns on the status console's actions (replaying dead
// letters, pausing and resuming consumers) and sets the token they
// require: every POST to the console's API must carry "Authorization:
// Bearer <token>" and come from the page's own origin. Give it with
// ServeMetrics (the console is served on that listener); keep the listener
// on loopback or behind TLS, since the token travels in a header. The
// token must be at least 16 characters. Default: actions off, the console
// is read-only.
func ConsoleAdmin(token string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if len(token) < MinConsoleTokenLength {
			s.bad("actors.ConsoleAdmin: the token has %d characters, want at least %d", len(token), MinConsoleTokenLength)
		}
		s.consoleToken = token
	})
}

// MinConsoleTokenLength is the shortest token ConsoleAdmin takes.
const MinConsoleTokenLength = 16

// deadLetterTopics are the event handlers' dead-letter topics, sorted,
// each once.
func (r *eventRouter) deadLetterTopics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, hs := range r.handlers {
		for _, h := range hs {
			if h.dlq != "" && !slices.Contains(out, h.dlq) {
				out = append(out, h.dlq)
			}
		}
	}
	slices.Sort(out)
	return out
}

// decodeTimeout bounds DecodeValue's schema lookup.
const decodeTimeout = time.Second

// DecodeValue renders value, a record value of topic, as JSON text,
// decoded with the Avro schema of a consumer of topic in this runtime (the
// writer schema its framing names, resolved to that consumer's reader
// schema). It reports false when no consumer of topic has a schema
// (WithSchema), or the value does not decode; a schema registry lookup is
// one try bounded by a second. The status console shows dead letters'
// values with it.
func (rt *Runtime) DecodeValue(ctx context.Context, topic string, value []byte) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, decodeTimeout)
	defer cancel()
	for _, g := range rt.groupList() {
		c := g.consumers()[topic]
		if c == nil {
			continue
		}
		d, ok := c.dec.(avroDecoder)
		if !ok {
			continue
		}
		var v any
		if d.decode(ctx, value, &v) != nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		return string(b), true
	}
	return "", false
}

// statusConsole is the console a runtime serves with the client it reads
// the cluster through, closed with it.
type statusConsole struct {
	*console.Console
	cl *kgo.Client
}

// closeClient closes the console's client, once the listener is closed:
// Close (the console's) stops only the sampling, and an action still
// answering needs the client until the listener has shut down.
func (c *statusConsole) closeClient() { c.cl.Close() }

// consoleSource is the runtime as its console sees it (console.Source and
// console.ValueDecoder), with a client of the console's own: one that,
// unlike the producing client, never creates a topic, so that looking at
// a dead-letter topic that does not exist yet does not create it.
type consoleSource struct {
	*Runtime
	cl *kgo.Client
}

// Client implements console.Source.
func (s consoleSource) Client() *kgo.Client { return s.cl }

// newConsole builds the status console of ServeMetrics, with actions on
// when ConsoleAdmin gave a token.
func (rt *Runtime) newConsole() (*statusConsole, error) {
	cl, err := kgo.NewClient(rt.clientOpts("console")...)
	if err != nil {
		return nil, fmt.Errorf("console: kafka client: %w", err)
	}
	c := console.New(consoleSource{rt, cl}, console.Options{AdminToken: rt.s.consoleToken, Logger: rt.log})
	return &statusConsole{Console: c, cl: cl}, nil
}

// troubleOf describes k's run of errors as trouble does, "" when k has
// none, or it has not lasted fetchTroubleAfter, or it ended.
func (h *fetchHealth) troubleOf(k tp) string {
	if h == nil {
		return ""
	}
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	ft := h.parts[k]
	if ft == nil || now.Sub(ft.last) >= fetchQuietAfter || now.Sub(ft.first) < fetchTroubleAfter {
		return ""
	}
	return fmt.Sprintf("failing to %s for %v (%d errors): %s", h.verb, now.Sub(ft.first).Round(time.Second), ft.count, ft.err)
}
