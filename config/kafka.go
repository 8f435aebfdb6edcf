package config

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Brokers returns the bootstrap servers as a list.
func (k Kafka) Brokers() []string {
	var out []string
	for _, s := range strings.Split(k.BootstrapServers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ClientOpts is the one place that turns the Kafka section into franz-go
// client options (seed brokers, client ID, timeouts, SASL, TLS). Callers
// append their own producer or consumer options after these.
func (k Kafka) ClientOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers()...),
		kgo.DialTimeout(k.DialTimeout),
		kgo.RetryTimeout(k.RequestTimeout),
	}
	if k.ClientID != "" {
		opts = append(opts, kgo.ClientID(k.ClientID))
	}
	return opts, nil
}
