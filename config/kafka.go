package config

import (
	"net/url"
	"slices"
	"strings"
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

// Redacted returns a copy of c that is safe to log: the SASL and schema
// registry passwords are replaced by "***", and an HTTP handler URL's password by "xxxxx" (the
// whole URL by "***" when it does not parse). c is not modified.
func (c Config) Redacted() Config {
	if c.Kafka.SASL.Password != "" {
		c.Kafka.SASL.Password = "***"
	}
	if c.Broker.SASL.Password != "" {
		c.Broker.SASL.Password = "***"
	}
	if c.SchemaRegistry.Auth.Password != "" {
		c.SchemaRegistry.Auth.Password = "***"
	}
	c.Consumers = slices.Clone(c.Consumers)
	for i, cs := range c.Consumers {
		if h := cs.Handler.HTTP; h != nil {
			cp := *h
			if u, err := url.Parse(h.URL); err == nil {
				cp.URL = u.Redacted()
			} else {
				cp.URL = "***"
			}
			c.Consumers[i].Handler.HTTP = &cp
		}
	}
	return c
}
