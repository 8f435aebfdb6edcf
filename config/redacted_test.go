package config

import (
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	c := validConfig()
	c.Kafka.SASL = SASL{Mechanism: MechanismPlain, User: "u", Password: "hunter2"}
	c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "https://u:s3cret@hooks.local/x"}}
	r := c.Redacted()
	if r.Kafka.SASL.Password != "***" || r.Kafka.SASL.User != "u" {
		t.Errorf("redacted SASL = %+v", r.Kafka.SASL)
	}
	if got := r.Consumers[0].Handler.HTTP.URL; strings.Contains(got, "s3cret") || !strings.Contains(got, "hooks.local") {
		t.Errorf("redacted URL = %q", got)
	}
	if c.Kafka.SASL.Password != "hunter2" || c.Consumers[0].Handler.HTTP.URL != "https://u:s3cret@hooks.local/x" {
		t.Errorf("Redacted modified its receiver")
	}
	if got := (Config{}).Redacted().Kafka.SASL.Password; got != "" {
		t.Errorf("empty password redacted to %q, want it left empty", got)
	}
}
