package shop

import "github.com/actord/actord/config"

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
