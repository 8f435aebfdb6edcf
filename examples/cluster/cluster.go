// Package cluster is how the example services find a broker: the one
// they are given, else an embedded one they start. It is its own package,
// apart from package shop, so that a service that never starts a broker
// (examples/producer) does not link the embedded broker.
package cluster

import "github.com/actord/actord/broker"

// Start is the cluster an example runs on: brokers when given, else an
// embedded broker it starts on a free loopback port (embedded is then
// true). stop closes what Start started; call it after the runtime has
// stopped.
func Start(brokers string) (addr string, embedded bool, stop func(), err error) {
	if brokers != "" {
		return brokers, false, func() {}, nil
	}
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		return "", false, nil, err
	}
	return b.Addr(), true, b.Close, nil
}
