package config

import (
	"github.com/actord/actord/actors"
)

// checkGroups validates the keys of the consumer groups: the balancer and
// the protocol, and a protocol that the balancer would make franz-go
// ignore.
func (k Kafka) checkGroups(ck *checker) {
	b, berr := actors.ParseBalancer(k.Balancer)
	if berr != nil {
		ck.add("kafka.balancer", "%s is not one of cooperative-sticky, sticky, range, roundrobin", clipQuoted(k.Balancer))
	}
	p, err := actors.ParseGroupProtocol(k.GroupProtocol)
	switch {
	case err != nil:
		ck.add("kafka.group_protocol", "%s is not one of classic, consumer", clipQuoted(k.GroupProtocol))
	case p == actors.ProtocolConsumer && berr == nil && b != actors.BalanceRange && b != actors.BalanceSticky:
		ck.add("kafka.group_protocol", "consumer needs kafka.balancer range or sticky (the broker-side assignors), not %s", b)
	}
	switch k.IsolationLevel {
	case "", IsolationReadCommitted, IsolationReadUncommitted:
	default:
		ck.add("kafka.isolation_level", "%s is not one of read_committed, read_uncommitted", clipQuoted(k.IsolationLevel))
	}
}

// checkIsolation refuses read_uncommitted beside an exactly-once
// consumer, whose outputs must follow committed inputs only.
func (c Config) checkIsolation(ck *checker) {
	if c.Kafka.IsolationLevel != IsolationReadUncommitted {
		return
	}
	for i, cs := range c.Consumers {
		if cs.ExactlyOnce {
			ck.add("kafka.isolation_level", "read_uncommitted with an exactly-once consumer (consumers[%d].exactly_once): its outputs must follow committed inputs only", i)
			return
		}
	}
}

// The values of kafka.isolation_level.
const (
	IsolationReadCommitted   = "read_committed"
	IsolationReadUncommitted = "read_uncommitted"
)

// GroupOptions are the library's options of the group keys (valid, as
// Validate leaves them).
func (k Kafka) GroupOptions() ([]actors.RuntimeOption, error) {
	b, err := actors.ParseBalancer(k.Balancer)
	if err != nil {
		return nil, err
	}
	p, err := actors.ParseGroupProtocol(k.GroupProtocol)
	if err != nil {
		return nil, err
	}
	opts := []actors.RuntimeOption{actors.GroupBalancer(b), actors.ConsumerGroupProtocol(p)}
	if k.InstanceID != "" {
		opts = append(opts, actors.GroupInstanceID(k.InstanceID))
	}
	if k.IsolationLevel == IsolationReadUncommitted {
		opts = append(opts, actors.ReadUncommitted())
	}
	if k.MetadataMaxAge != 0 {
		opts = append(opts, actors.MetadataMaxAge(k.MetadataMaxAge))
	}
	return opts, nil
}
