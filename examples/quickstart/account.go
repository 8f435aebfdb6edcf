package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/dlq"
)

// account prints what the services do: a few lines of each kind while the
// demo flow runs (not thousands), every record once it serves live.
type account struct {
	out    io.Writer
	limit  int
	isLive atomic.Bool

	mu    sync.Mutex
	shown map[string]int
}

func newAccount(out io.Writer) *account {
	return &account{out: out, limit: 2, shown: map[string]int{}}
}

// sample prints the line unless limit lines of its kind (its format) were
// printed already; always when live.
func (a *account) sample(who, format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.isLive.Load() {
		if a.shown[format] >= a.limit {
			return
		}
		a.shown[format]++
	}
	a.println(who, format, args...)
}

// live prints the line only when serving live.
func (a *account) live(who, format string, args ...any) {
	if !a.isLive.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.println(who, format, args...)
}

func (a *account) println(who, format string, args ...any) {
	fmt.Fprintf(a.out, "  %-15s %s\n", "["+who+"]", fmt.Sprintf(format, args...))
}

// printf prints a line of the account (not a service's).
func (a *account) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.out, format, args...)
}

// groupSummary is one consumer group's line of the summary.
type groupSummary struct {
	group, topic           string
	handled, retried, dead int64
	lag                    int64
	deadLabel              string
}

// summary is the final account.
type summary struct {
	elapsed                     time.Duration
	produced                    map[string]int64 // by topic
	groups                      []groupSummary
	paid, declined              int
	notified, welcomed, configs int64
	deadLetters                 []string
}

func (s summary) print(out io.Writer) {
	fmt.Fprintf(out, "\nsummary after %v\n", s.elapsed.Round(time.Millisecond))
	topics := make([]string, 0, len(s.produced))
	for t := range s.produced {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var prod []string
	for _, t := range topics {
		prod = append(prod, fmt.Sprintf("%s %d", t, s.produced[t]))
	}
	fmt.Fprintf(out, "  produced: %s\n\n", strings.Join(prod, ", "))
	fmt.Fprintf(out, "  %-17s %-9s %8s %8s %14s %5s\n", "group", "topic", "handled", "retried", "dead-lettered", "lag")
	for _, g := range s.groups {
		dead := fmt.Sprint(g.dead)
		if g.deadLabel != "" {
			dead = fmt.Sprintf("%d %s", g.dead, g.deadLabel)
		}
		fmt.Fprintf(out, "  %-17s %-9s %8d %8d %14s %5d\n", g.group, g.topic, g.handled, g.retried, dead, g.lag)
	}
	fmt.Fprintf(out, "\n  orders: %d paid, %d declined (over %d); %d notifications sent\n", s.paid, s.declined, cardLimit, s.notified)
	fmt.Fprintf(out, "  users:  %d welcome mails, %d default settings\n", s.welcomed, s.configs)
	fmt.Fprintf(out, "  dead letters in orders.dlq (actord dlq list orders.dlq):\n")
	for _, d := range s.deadLetters {
		fmt.Fprintf(out, "    %s\n", d)
	}
}

// counters reads the runtime's Prometheus counter name, summed by the
// label label (group or topic).
func counters(rt *actors.Runtime, name, label string) map[string]int64 {
	out := map[string]int64{}
	mfs, err := rt.Metrics().Registry.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] += int64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

// lags is each group's total lag as the cluster reports it (end offset
// minus committed offset), -1 where unknown.
func lags(ctx context.Context, adm *kadm.Client, groups ...string) map[string]int64 {
	out := map[string]int64{}
	for _, g := range groups {
		out[g] = -1
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := adm.Lag(ctx, groups...)
	if err != nil {
		return out
	}
	l.Each(func(g kadm.DescribedGroupLag) {
		if g.Error() == nil {
			out[g.Group] = g.Lag.Total()
		}
	})
	return out
}

// deadLetters reads every dead letter of the topic dlqTopic and describes
// each from its actord.dlq.* headers.
func deadLetters(ctx context.Context, rt *actors.Runtime, dlqTopic string) ([]string, error) {
	// A client of its own: package dlq derives its short-lived consumer
	// from its options.
	cl, err := kgo.NewClient(kgo.SeedBrokers(rt.Brokers()...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	letters, err := dlq.Read(ctx, cl, dlqTopic)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range letters {
		out = append(out, fmt.Sprintf("%s/%d@%d from group %s after %d attempt(s): %s",
			l.Topic, l.Partition, l.Offset, l.Group, l.Attempts, l.Error))
	}
	return out, nil
}
