package config

// Source names where Load reads from, besides the built-in defaults.
type Source struct {
	// File is the --config path. Empty means ./actord.yaml when present,
	// else no file. A named file that does not exist is an error.
	File string
	// Flags holds the config keys (dotted, e.g. "kafka.bootstrap_servers")
	// set on the command line; they win over everything else.
	Flags map[string]any
	// Env is the environment, as os.Environ returns it; nil means
	// os.Environ(). Keys are ACTORD_ plus the dotted key upper-cased with
	// dots as underscores: ACTORD_KAFKA_BOOTSTRAP_SERVERS.
	Env []string
}

// Load builds the configuration from defaults, the file, the environment
// and flags, in rising precedence, then validates it. Every problem found
// is returned at once, each naming its key (and the file).
func Load(src Source) (Config, error) {
	cfg := Default()
	// TEMPORARY: replaced by the viper loader in this session.
	if v, ok := src.Flags["kafka.bootstrap_servers"].(string); ok {
		cfg.Kafka.BootstrapServers = v
	}
	if v, ok := src.Flags["kafka.enabled"].(bool); ok {
		cfg.Kafka.Enabled = v
	}
	for k, v := range src.Flags {
		switch k {
		case "broker.listen":
			cfg.Broker.Listen = v.(string)
		case "broker.data_dir":
			cfg.Broker.DataDir = v.(string)
		}
	}
	return cfg, nil
}
