package config

import (
	"strings"
	"testing"
	"time"
)

// Every producer value that cannot work is one error naming its key; the
// defaults are valid and turn into the library's options.
func TestProducerKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Producer)
		want string // "" for valid
	}{
		{"defaults", func(*Producer) {}, ""},
		{"every codec", func(p *Producer) { p.Compression = "zstd" }, ""},
		{"acks leader, retries 0, timeout 2s", func(p *Producer) { p.Acks, p.RecordRetries, p.DeliveryTimeout = "leader", 0, 2*time.Second }, ""},
		{"unknown codec", func(p *Producer) { p.Compression = "brotli" }, `producer.compression: "brotli" is not one of none, gzip, snappy, lz4, zstd`},
		{"negative linger", func(p *Producer) { p.Linger = -time.Millisecond }, "producer.linger: must be between 0 and 1m0s, got -1ms"},
		{"linger too long", func(p *Producer) { p.Linger = 2 * time.Minute }, "producer.linger: must be between 0 and 1m0s"},
		{"batch too small", func(p *Producer) { p.BatchMaxBytes = 100 }, "producer.batch_max_bytes: must be at least 512, got 100"},
		{"batch too large", func(p *Producer) { p.BatchMaxBytes = 200 << 20 }, "producer.batch_max_bytes: must be at most 104857600"},
		{"no buffer", func(p *Producer) { p.MaxBufferedRecords = 0 }, "producer.max_buffered_records: must be at least 1, got 0"},
		{"acks 1", func(p *Producer) { p.Acks = "1" }, `producer.acks: "1" is not one of all, leader, none`},
		{"retries below -1", func(p *Producer) { p.RecordRetries = -2 }, "producer.record_retries: must be at least -1, got -2"},
		{"delivery timeout too short", func(p *Producer) { p.DeliveryTimeout = 100 * time.Millisecond }, "producer.delivery_timeout: must be 0 (kafka.request_timeout) or at least 1s, got 100ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.set(&c.Producer)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v, want no error", err)
			case tc.want == "":
				if _, err := c.Producer.Options(); err != nil {
					t.Fatalf("Options: %v", err)
				}
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			case strings.Contains(err.Error(), "\n"):
				t.Fatalf("Validate: %v, want one error", err)
			}
		})
	}
}

// The environment sets the producer keys like any other.
func TestProducerKeysFromEnv(t *testing.T) {
	path := writeConfig(t, "producer: {compression: gzip, linger: 5ms}\n")
	cfg := mustLoad(t, Source{File: path, Env: []string{"ACTORD_PRODUCER_ACKS=leader", "ACTORD_PRODUCER_COMPRESSION=lz4"}})
	if p := cfg.Producer; p.Compression != "lz4" || p.Linger != 5*time.Millisecond || p.Acks != "leader" || p.RecordRetries != -1 {
		t.Errorf("producer section %+v, want lz4 (env over file), 5ms, leader, -1", p)
	}
}
