package config

import (
	"strings"
	"testing"
)

// The group keys: valid combinations turn into options; a bad balancer or
// protocol, or the KIP-848 protocol with a balancer it would ignore, is
// one error naming the key.
func TestGroupKeys(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		instance, bal, protocol string
		want                    string
	}{
		{"defaults", "", "cooperative-sticky", "classic", ""},
		{"static range", "pod-7", "range", "classic", ""},
		{"kip-848 sticky", "", "sticky", "consumer", ""},
		{"unknown balancer", "", "fair", "classic", `kafka.balancer: "fair" is not one of cooperative-sticky, sticky, range, roundrobin`},
		{"unknown protocol", "", "range", "next-gen", `kafka.group_protocol: "next-gen" is not one of classic, consumer`},
		{"kip-848 roundrobin", "", "roundrobin", "consumer", "kafka.group_protocol: consumer needs kafka.balancer range or sticky (the broker-side assignors), not roundrobin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			if tc.name != "defaults" {
				c.Kafka.InstanceID, c.Kafka.Balancer, c.Kafka.GroupProtocol = tc.instance, tc.bal, tc.protocol
			}
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want == "":
				if _, err := c.Kafka.GroupOptions(); err != nil {
					t.Fatalf("GroupOptions: %v", err)
				}
			case err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n"):
				t.Fatalf("Validate: %v, want the one error %q", err, tc.want)
			}
		})
	}
}
