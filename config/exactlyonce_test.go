package config

import (
	"strings"
	"testing"
)

func TestValidateExactlyOnce(t *testing.T) {
	forward := Handler{Forward: &ForwardHandler{Topic: "orders.copy"}}
	cases := []struct {
		name   string
		change func(c *Consumer)
		want   string // "" means valid
	}{
		{"off by default", func(c *Consumer) {}, ""},
		{"forward", func(c *Consumer) { c.ExactlyOnce, c.Handler = true, forward }, ""},
		{"forward in partition order", func(c *Consumer) { c.ExactlyOnce, c.Handler, c.Ordering = true, forward, "partition" }, ""},
		{"exec", func(c *Consumer) { c.ExactlyOnce = true }, "consumers[0].exactly_once: true with a exec handler: exactly once covers records written to Kafka, so it needs handler.forward"},
		{"http", func(c *Consumer) { c.ExactlyOnce, c.Handler = true, Handler{HTTP: &HTTPHandler{URL: "http://h/"}} }, "true with a http handler"},
		{"key order", func(c *Consumer) { c.ExactlyOnce, c.Handler, c.Ordering = true, forward, "key" }, `consumers[0].exactly_once: true with ordering "key": an exactly-once consumer runs in partition order`},
		{"unordered", func(c *Consumer) { c.ExactlyOnce, c.Handler, c.Ordering = true, forward, "unordered" }, `true with ordering "unordered"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c.Consumers[0])
			err := c.WithDefaults().Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// TestLoadExactlyOnceKeys: consumers[].exactly_once loads from the file,
// kafka.transactional_id_prefix from the file and the environment.
func TestLoadExactlyOnceKeys(t *testing.T) {
	path := writeConfig(t, `
kafka: {transactional_id_prefix: shop-}
consumers:
  - {topic: orders, group: g, exactly_once: true, handler: {forward: {topic: orders.copy}}}
`)
	cfg := mustLoad(t, Source{File: path, Env: noEnv})
	if !cfg.Consumers[0].ExactlyOnce || cfg.Kafka.TransactionalIDPrefix != "shop-" {
		t.Errorf("loaded exactly_once %v, prefix %q", cfg.Consumers[0].ExactlyOnce, cfg.Kafka.TransactionalIDPrefix)
	}
	cfg = mustLoad(t, Source{File: path, Env: []string{"ACTORD_KAFKA_TRANSACTIONAL_ID_PREFIX=env-"}})
	if cfg.Kafka.TransactionalIDPrefix != "env-" {
		t.Errorf("prefix from the environment: %q", cfg.Kafka.TransactionalIDPrefix)
	}
}
