package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds the settings every consumer group client of the
// runtime shares: static membership, the balancer and the group protocol.
// They are RuntimeOptions because they describe the process (its instance
// id, its rollout's protocol), not one consumer.

// Balancer divides a group's partitions among its members (Java client:
// partition.assignment.strategy).
type Balancer int

// The balancers of GroupBalancer. Every member of a group must offer the
// balancer the group uses; a rolling change between an eager balancer and
// cooperative-sticky needs two rollouts (KIP-429).
const (
	// BalanceCooperativeSticky moves only the partitions that change
	// owner: the others keep running through a rebalance (incremental,
	// KIP-429). The default.
	BalanceCooperativeSticky Balancer = iota
	// BalanceSticky keeps partitions where they were, but every rebalance
	// stops every partition first (eager).
	BalanceSticky
	// BalanceRange gives each member a contiguous range of each topic's
	// partitions (eager): the same partition numbers of co-partitioned
	// topics land on one member.
	BalanceRange
	// BalanceRoundRobin deals partitions out one by one (eager).
	BalanceRoundRobin
)

// String is the config word of b, the protocol name Kafka shows.
func (b Balancer) String() string {
	switch b {
	case BalanceCooperativeSticky:
		return "cooperative-sticky"
	case BalanceSticky:
		return "sticky"
	case BalanceRange:
		return "range"
	case BalanceRoundRobin:
		return "roundrobin"
	}
	return fmt.Sprintf("Balancer(%d)", int(b))
}

// ParseBalancer maps the config words cooperative-sticky, sticky, range
// and roundrobin.
func ParseBalancer(s string) (Balancer, error) {
	for b := BalanceCooperativeSticky; b <= BalanceRoundRobin; b++ {
		if s == b.String() {
			return b, nil
		}
	}
	return 0, fmt.Errorf("balancer %q is not one of cooperative-sticky, sticky, range, roundrobin", s)
}

func (b Balancer) kgo() kgo.GroupBalancer {
	switch b {
	case BalanceSticky:
		return kgo.StickyBalancer()
	case BalanceRange:
		return kgo.RangeBalancer()
	case BalanceRoundRobin:
		return kgo.RoundRobinBalancer()
	}
	return kgo.CooperativeStickyBalancer()
}

// GroupProtocol is how a group assigns partitions: by its members (the
// classic protocol) or by the broker (KIP-848).
type GroupProtocol int

// The protocols of ConsumerGroupProtocol.
const (
	// ProtocolClassic: the members join, one of them assigns with the
	// Balancer, every member syncs. Every Kafka version; the default.
	ProtocolClassic GroupProtocol = iota
	// ProtocolConsumer is KIP-848's protocol: members heartbeat, the
	// broker assigns (range or uniform, after GroupBalancer's range or
	// sticky) and a rebalance no longer stops the group. It needs Kafka
	// 4.0 or later (4.3 or later recommended by franz-go: before it, a
	// commit during a rebalance can fail with STALE_MEMBER_EPOCH, which
	// the runtime retries with its next commit) and the embedded broker
	// serves it.
	ProtocolConsumer
)

// String is the config word of p: classic or consumer.
func (p GroupProtocol) String() string {
	switch p {
	case ProtocolClassic:
		return "classic"
	case ProtocolConsumer:
		return "consumer"
	}
	return fmt.Sprintf("GroupProtocol(%d)", int(p))
}

// ParseGroupProtocol maps the config words classic and consumer.
func ParseGroupProtocol(s string) (GroupProtocol, error) {
	switch s {
	case "classic":
		return ProtocolClassic, nil
	case "consumer":
		return ProtocolConsumer, nil
	}
	return 0, fmt.Errorf("group protocol %q is not one of classic, consumer", s)
}

// groupSettings are what GroupInstanceID, GroupBalancer and
// ConsumerGroupProtocol set.
type groupSettings struct {
	instanceID      string
	balancer        Balancer
	protocol        GroupProtocol
	readUncommitted bool
	// metadataMaxAge is MetadataMaxAge's, zero when not given.
	metadataMaxAge time.Duration
}

// check reports a combination that would be ignored: franz-go runs a
// KIP-848 group only with the range or sticky balancer, and would fall
// back to the classic protocol without a word.
func (g groupSettings) check() error {
	if g.protocol == ProtocolConsumer && g.balancer != BalanceRange && g.balancer != BalanceSticky {
		return errors.New("actors.ConsumerGroupProtocol(ProtocolConsumer) needs actors.GroupBalancer(BalanceRange) or (BalanceSticky), the broker-side assignors it maps to; the balancer is " + g.balancer.String())
	}
	return nil
}

// opts are the franz-go options of every group client.
func (g groupSettings) opts() []kgo.Opt {
	opts := []kgo.Opt{kgo.Balancers(g.balancer.kgo())}
	if g.instanceID != "" {
		opts = append(opts, kgo.InstanceID(g.instanceID))
	}
	if g.protocol == ProtocolConsumer {
		opts = append(opts, kgo.ServerSideBalancer())
	}
	return opts
}

// GroupInstanceID makes this process a static member of every group it
// joins, known by id (Java client: group.instance.id, KIP-345): a member
// that restarts with its id within the session timeout (SessionTimeout)
// gets its partitions back without a rebalance, so a rolling restart does
// not stop the other members; a stopped static member does not leave
// its groups, so its partitions wait for it until the session timeout
// passes. The id must be unique among the group's members and stable
// across restarts (a pod or host name): a second process with the same id
// fences the first. On the embedded broker, as on Kafka before 3.2 with
// other clients, a restarted group leader still rebalances. Default: none
// (dynamic membership).
func GroupInstanceID(id string) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if id == "" {
			s.bad("actors.GroupInstanceID(\"\"): must not be empty (leave it out for dynamic membership)")
			return
		}
		s.group.instanceID = id
	})
}

// GroupBalancer sets how the runtime's groups divide partitions among
// their members (Java client: partition.assignment.strategy). Default
// BalanceCooperativeSticky.
func GroupBalancer(b Balancer) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if b < BalanceCooperativeSticky || b > BalanceRoundRobin {
			s.bad("actors.GroupBalancer(%v): not one of BalanceCooperativeSticky, BalanceSticky, BalanceRange, BalanceRoundRobin", b)
			return
		}
		s.group.balancer = b
	})
}

// ConsumerGroupProtocol sets the protocol of the runtime's groups (Java
// client: group.protocol): ProtocolClassic (default) or ProtocolConsumer
// (KIP-848), which needs GroupBalancer BalanceRange or BalanceSticky.
func ConsumerGroupProtocol(p GroupProtocol) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if p != ProtocolClassic && p != ProtocolConsumer {
			s.bad("actors.ConsumerGroupProtocol(%v): not one of ProtocolClassic, ProtocolConsumer", p)
			return
		}
		s.group.protocol = p
	})
}

// ReadUncommitted makes every group fetch records of transactions not yet
// committed, and of aborted ones (Java client: isolation.level
// read_uncommitted): lower latency behind a slow transactional producer,
// at the price of handling records its transaction may abort. It is an
// error beside an exactly-once consumer (Transform), whose outputs must
// follow committed inputs only. Default: read_committed, which costs
// nothing on topics without transactions.
func ReadUncommitted() RuntimeOption {
	return runtimeOpt(func(s *settings) { s.group.readUncommitted = true })
}

// isolation is the groups' fetch isolation level.
func (g groupSettings) isolation() kgo.IsolationLevel {
	if g.readUncommitted {
		return kgo.ReadUncommitted()
	}
	return kgo.ReadCommitted()
}

// The metadata ages of the group clients (MetadataMaxAge).
const (
	// DefaultMetadataMaxAge is a group client's without a topic pattern:
	// franz-go's and the Java client's.
	DefaultMetadataMaxAge = 5 * time.Minute
	// DefaultPatternMetadataMaxAge is a group client's with a topic
	// pattern (ConsumePattern): a new matching topic is consumed within
	// about this long.
	DefaultPatternMetadataMaxAge = 10 * time.Second
)

// MetadataMaxAge sets how often the groups' clients refresh their view of
// the cluster when nothing forces them to (Java client:
// metadata.max.age.ms): a topic-pattern consumer (ConsumePattern) sees a
// new matching topic, and any group a topic's new partitions, within
// about this long. Between 1s and 1h. Default DefaultPatternMetadataMaxAge
// for a group with a topic pattern, DefaultMetadataMaxAge otherwise.
func MetadataMaxAge(d time.Duration) RuntimeOption {
	return runtimeOpt(func(s *settings) {
		if d < time.Second || d > time.Hour {
			s.bad("actors.MetadataMaxAge(%s): must be between 1s and 1h", d)
			return
		}
		s.group.metadataMaxAge = d
	})
}

// metadataAge is the metadata options of a group client, with or
// without a topic pattern.
func (s *settings) metadataAge(pattern bool) []kgo.Opt {
	d := s.group.metadataMaxAge
	switch {
	case d == 0 && pattern:
		d = DefaultPatternMetadataMaxAge
	case d == 0:
		return nil
	}
	// franz-go refuses a max age below the min age (default 5s).
	return []kgo.Opt{kgo.MetadataMaxAge(d), kgo.MetadataMinAge(min(d, 5*time.Second))}
}
