package shop

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/config"
)

// Config is an example service's configuration: the cluster at brokers,
// or, when brokers is empty, the embedded broker in-process on a free
// port; no metrics listener. service names the process (and the event
// router's group); empty keeps the default.
func Config(service, brokers string) config.Config {
	cfg := config.Default()
	if service != "" {
		cfg.Service = service
	}
	cfg.HTTP.Listen = ""
	if brokers == "" {
		cfg.Kafka.Enabled = false
		cfg.Broker.Listen = "127.0.0.1:0"
	} else {
		cfg.Kafka.BootstrapServers = brokers
	}
	return cfg
}

// EndOffset is the number of records topic holds (-1 when unknown), what
// an example waits for before it reads a topic back.
func EndOffset(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lo, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return -1
	}
	var n int64
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}
