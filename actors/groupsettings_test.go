package actors_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// describeGroup is the group as the broker describes it (classic groups).
func describeGroup(t *testing.T, b actortest.Cluster, group string) kadm.DescribedGroup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dg, err := kadm.NewClient(actortest.Client(t, b)).DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	return dg[group]
}

// consumeNothing declares a consumer whose handler does nothing.
func consumeNothing(t *testing.T, rt *actors.Runtime, topic, group string) {
	t.Helper()
	if err := actors.Consume(rt, topic, group, func(context.Context, actors.Message[string]) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// The group runs the balancer the runtime offers: the broker names it as
// the group's protocol.
func TestGroupBalancerIsTheGroupsProtocol(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "balanced", 4)
	for _, bal := range []actors.Balancer{actors.BalanceCooperativeSticky, actors.BalanceSticky, actors.BalanceRange, actors.BalanceRoundRobin} {
		t.Run(bal.String(), func(t *testing.T) {
			var opts []actors.RuntimeOption
			if bal != actors.BalanceCooperativeSticky { // the default
				opts = append(opts, actors.GroupBalancer(bal))
			}
			rt := actortest.Runtime(t, b, opts...)
			group := "by-" + bal.String()
			consumeNothing(t, rt, "balanced", group)
			actortest.Start(t, rt)
			actortest.Eventually(t, 20*time.Second, "the group is stable", func() bool {
				return describeGroup(t, b, group).State == "Stable"
			})
			if p := describeGroup(t, b, group).Protocol; p != bal.String() {
				t.Errorf("group protocol %q, want %q", p, bal.String())
			}
		})
	}
}

// rebalances is how often the group's rebalance callbacks ran in rt, by
// kind (assigned, revoked, lost).
func rebalances(rt *actors.Runtime, group string) map[string]float64 {
	n := map[string]float64{}
	for _, kind := range []string{"assigned", "revoked", "lost"} {
		var m dto.Metric
		rt.Metrics().Rebalances.WithLabelValues(group, kind).(prometheus.Metric).Write(&m)
		n[kind] = m.GetCounter().GetValue()
	}
	return n
}

// owned is how many partitions rt's actors own now, by its own status
// (-1 when the status failed).
func owned(t *testing.T, rt *actors.Runtime) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := rt.Status(ctx)
	if err != nil {
		return -1 // asked again
	}
	n := 0
	for _, g := range st.Groups {
		for _, c := range g.Consumers {
			n += len(c.Partitions)
		}
	}
	return n
}

// restartSecond starts member first, then second, both in group on a
// 2-partition topic, and restarts second (stop, start anew with
// second's options) once each holds a partition. It returns how many
// rebalances first saw from the restart on.
func restartSecond(t *testing.T, first, second []actors.RuntimeOption) map[string]float64 {
	t.Helper()
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "members", 2)
	const group = "members"
	start := func(opts []actors.RuntimeOption) *actors.Runtime {
		rt := actortest.Runtime(t, b, append(opts, actors.SessionTimeout(30*time.Second))...)
		consumeNothing(t, rt, "members", group)
		actortest.Start(t, rt)
		return rt
	}
	stable := func(members int) func() bool {
		return func() bool {
			dg := describeGroup(t, b, group)
			if dg.State != "Stable" || len(dg.Members) != members {
				return false
			}
			for _, m := range dg.Members {
				if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) == 0 || len(a.Topics[0].Partitions) != 1 {
					return false
				}
			}
			return true
		}
	}
	a := start(first)
	actortest.Eventually(t, 20*time.Second, "the first member joined", func() bool { return a.Ready(context.Background()) == nil })
	s := start(second)
	actortest.Eventually(t, 30*time.Second, "a partition each", stable(2))
	// The broker calls the group stable once the members have synced,
	// which can be before the first member's assignment callback ran:
	// wait until it owns its partition, so that callback is counted
	// before the restart, not after.
	actortest.Eventually(t, 10*time.Second, "the first member owns one partition", func() bool { return owned(t, a) == 1 })
	before := rebalances(a, group)
	actortest.Stop(t, s)
	s2 := start(second)
	actortest.Eventually(t, 30*time.Second, "the restarted member has its partition back", func() bool {
		return s2.Ready(context.Background()) == nil && stable(2)()
	})
	after := rebalances(a, group)
	for k := range after {
		after[k] -= before[k]
	}
	return after
}

// A static member restarted within the session timeout gets its partition
// back and the other member never rebalances, where a dynamic member's
// restart rebalances it. (With the eager range balancer: the cooperative
// and sticky balancers' joins carry the partitions a member owns, which a
// restarted member no longer has, and the broker rebalances on the
// changed join; README, Consumer groups, says so.)
func TestStaticMemberRestartDoesNotRebalance(t *testing.T) {
	t.Parallel()
	opts := func(id string) []actors.RuntimeOption {
		opts := []actors.RuntimeOption{actors.GroupBalancer(actors.BalanceRange)}
		if id != "" {
			opts = append(opts, actors.GroupInstanceID(id))
		}
		return opts
	}
	if n := restartSecond(t, opts("first"), opts("second")); n["assigned"]+n["revoked"]+n["lost"] != 0 {
		t.Errorf("the other member's rebalance callbacks when a static member restarted: %v, want none", n)
	}
	if n := restartSecond(t, opts(""), opts("")); n["revoked"] == 0 {
		t.Errorf("the other member saw no revoke when a dynamic member restarted (%v): the test shows nothing", n)
	}
}

// The KIP-848 protocol against the embedded broker: members heartbeat
// (ConsumerGroupHeartbeat) instead of joining (JoinGroup), and records are
// handled and committed as with the classic protocol.
func TestConsumerGroupProtocolConsumes(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "next-gen", 2)
	var mu sync.Mutex
	seen := map[int16]int{}
	b.Cluster().Control(func(kr kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		seen[kr.Key()]++
		mu.Unlock()
		return nil, nil, false
	})
	rt := actortest.Runtime(t, b, actors.ConsumerGroupProtocol(actors.ProtocolConsumer), actors.GroupBalancer(actors.BalanceRange))
	var handled atomic.Int32
	err := actors.Consume(rt, "next-gen", "next-gen", func(context.Context, actors.Message[string]) error {
		handled.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	for i := range 10 {
		actortest.Produce(t, b, "next-gen", actortest.KeyValue("k"+string(rune('0'+i)), "v"))
	}
	actortest.WaitCommittedToEnd(t, b, "next-gen", "next-gen")
	if n := handled.Load(); n != 10 {
		t.Errorf("handled %d records, want 10", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[kmsg.ConsumerGroupHeartbeat.Int16()] == 0 || seen[kmsg.JoinGroup.Int16()] != 0 {
		t.Errorf("%d ConsumerGroupHeartbeat and %d JoinGroup requests, want heartbeats and no join",
			seen[kmsg.ConsumerGroupHeartbeat.Int16()], seen[kmsg.JoinGroup.Int16()])
	}
}

func TestGroupOptionsRefuseBadValues(t *testing.T) {
	for _, tc := range []struct {
		opts []actors.RuntimeOption
		want string
	}{
		{[]actors.RuntimeOption{actors.GroupInstanceID("")}, `actors.GroupInstanceID(""): must not be empty`},
		{[]actors.RuntimeOption{actors.GroupBalancer(actors.Balancer(9))}, "actors.GroupBalancer(Balancer(9))"},
		{[]actors.RuntimeOption{actors.ConsumerGroupProtocol(actors.GroupProtocol(5))}, "actors.ConsumerGroupProtocol(GroupProtocol(5))"},
		{[]actors.RuntimeOption{actors.ConsumerGroupProtocol(actors.ProtocolConsumer)}, "needs actors.GroupBalancer(BalanceRange) or (BalanceSticky)"},
		{[]actors.RuntimeOption{actors.ConsumerGroupProtocol(actors.ProtocolConsumer), actors.GroupBalancer(actors.BalanceRoundRobin)}, "the balancer is roundrobin"},
	} {
		_, err := actors.New(append([]actors.RuntimeOption{actors.Brokers("127.0.0.1:1")}, tc.opts...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	if _, err := actors.ParseBalancer("sticky-ish"); err == nil || !strings.Contains(err.Error(), `"sticky-ish" is not one of cooperative-sticky, sticky, range, roundrobin`) {
		t.Errorf("ParseBalancer: %v", err)
	}
}
