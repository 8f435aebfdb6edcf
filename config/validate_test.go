package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validConfig is a config that passes Validate, for cases to break.
func validConfig() Config {
	c := Default()
	c.Topics = []Topic{{Name: "orders", Partitions: 3}}
	c.Consumers = []Consumer{{
		Topic:   "orders",
		Group:   "processor",
		Handler: Handler{Exec: &ExecHandler{Command: []string{"./handle.sh"}}},
	}}
	return c
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *Config)
		want   string // "" means valid
	}{
		{"valid as is", func(c *Config) {}, ""},
		{"zero values with defaults", func(c *Config) {
			c.Topics[0].Partitions, c.Topics[0].ReplicationFactor = 0, 0
			c.Consumers[0].Concurrency, c.Consumers[0].MaxInFlight = 0, 0
		}, ""},

		{"service empty", func(c *Config) { c.Service = "" }, "service: must not be empty"},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, `log.level: "trace" is not one of debug, info, warn, error`},
		{"log level case", func(c *Config) { c.Log.Level = "INFO" }, `log.level: "INFO" is not one of`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, `log.format: "xml" is not one of text, json`},
		{"log json", func(c *Config) { c.Log.Format, c.Log.Level = "json", "debug" }, ""},

		{"bootstrap empty", func(c *Config) { c.Kafka.BootstrapServers = " , " }, "kafka.bootstrap_servers: required when kafka.enabled is true"},
		{"bootstrap no port", func(c *Config) { c.Kafka.BootstrapServers = "a:9092,b" }, `kafka.bootstrap_servers: "b" is not host:port`},
		{"bootstrap no host", func(c *Config) { c.Kafka.BootstrapServers = ":9092" }, `kafka.bootstrap_servers: ":9092" is not host:port`},
		{"bootstrap port 0", func(c *Config) { c.Kafka.BootstrapServers = "a:0" }, `kafka.bootstrap_servers: "a:0" is not host:port`},
		{"bootstrap port text", func(c *Config) { c.Kafka.BootstrapServers = "a:kafka" }, `"a:kafka" is not host:port`},
		{"bootstrap list and IPv6", func(c *Config) { c.Kafka.BootstrapServers = "a:9092, [::1]:9093" }, ""},
		{"bootstrap unchecked when disabled", func(c *Config) { c.Kafka.Enabled, c.Kafka.BootstrapServers = false, "" }, ""},
		{"dial timeout", func(c *Config) { c.Kafka.DialTimeout = 0 }, "kafka.dial_timeout: must be greater than 0, got 0s"},
		{"request timeout", func(c *Config) { c.Kafka.RequestTimeout = -time.Second }, "kafka.request_timeout: must be greater than 0, got -1s"},

		{"sasl mechanism", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "GSSAPI", User: "u", Password: "p"} }, `kafka.sasl.mechanism: "GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"sasl user required", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "PLAIN", Password: "p"} }, "kafka.sasl.user: required with mechanism PLAIN"},
		{"sasl password required", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "SCRAM-SHA-512", User: "u"} }, "kafka.sasl.password: required with mechanism SCRAM-SHA-512"},
		{"sasl password file", func(c *Config) { c.Kafka.SASL = SASL{Mechanism: "SCRAM-SHA-256", User: "u", PasswordFile: "/run/pw"} }, ""},
		{"sasl user without mechanism", func(c *Config) { c.Kafka.SASL = SASL{User: "u"} }, "kafka.sasl.mechanism: required when"},
		{"tls cert without key", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, CertFile: "c.pem"} }, "kafka.tls.key_file: required with kafka.tls.cert_file"},
		{"tls key without cert", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, KeyFile: "k.pem"} }, "kafka.tls.cert_file: required with kafka.tls.key_file"},
		{"tls files while disabled", func(c *Config) { c.Kafka.TLS = TLS{CAFile: "ca.pem"} }, "kafka.tls.enabled: false while"},
		{"tls complete", func(c *Config) { c.Kafka.TLS = TLS{Enabled: true, CAFile: "ca.pem", CertFile: "c", KeyFile: "k"} }, ""},

		{"broker listen", func(c *Config) { c.Broker.Listen = "9092" }, `broker.listen: "9092" is not host:port`},
		{"broker listen any host free port", func(c *Config) { c.Broker.Listen = ":0" }, ""},
		{"broker default partitions", func(c *Config) { c.Broker.DefaultPartitions = 0 }, "broker.default_partitions: must be at least 1, got 0"},
		{"commit interval", func(c *Config) { c.Runtime.CommitInterval = 0 }, "runtime.commit_interval: must be at least 100ms"},
		{"drain timeout", func(c *Config) { c.Runtime.DrainTimeout = 0 }, "runtime.drain_timeout: must be greater than 0"},
		{"max in flight", func(c *Config) { c.Runtime.MaxInFlight = 0 }, "runtime.max_in_flight: must be at least 1, got 0"},
		{"fetch bytes too small", func(c *Config) { c.Runtime.FetchPartitionBytes = 100 }, "runtime.fetch_partition_bytes: must be between 1024 and 1073741824 (1 GiB), got 100"},
		{"fetch bytes too large", func(c *Config) { c.Runtime.FetchPartitionBytes = 1 << 31 }, "runtime.fetch_partition_bytes: must be between 1024 and 1073741824 (1 GiB), got 2147483648"},
		{"events topic", func(c *Config) { c.Events.Topic = "" }, "events.topic: required"},
		{"http listen off", func(c *Config) { c.HTTP.Listen = "" }, ""},
		{"http listen", func(c *Config) { c.HTTP.Listen = "localhost" }, `http.listen: "localhost" is not host:port`},

		{"topic name empty", func(c *Config) { c.Topics[0].Name = "" }, "topics[0].name: required"},
		{"topic name dot", func(c *Config) { c.Topics[0].Name = "." }, `topics[0].name: "." is not a valid topic name`},
		{"topic name dotdot", func(c *Config) { c.Topics[0].Name = ".." }, `topics[0].name: ".." is not a valid topic name`},
		{"topic name char", func(c *Config) { c.Topics[0].Name = "orders/eu" }, `topics[0].name: "orders/eu" is not a valid topic name`},
		{"topic name long", func(c *Config) { c.Topics[0].Name = strings.Repeat("a", 250) }, "topics[0].name: \"aaaa"},
		{"topic name 249", func(c *Config) {
			c.Topics[0].Name = strings.Repeat("a", 249)
			c.Consumers = nil
		}, ""},
		{"topic name all chars", func(c *Config) { c.Topics[0].Name = "a-Z_0.9" }, ""},
		{"topic partitions", func(c *Config) { c.Topics[0].Partitions = -1 }, "topics[0].partitions: must be at least 1, got -1"},
		{"topic replication", func(c *Config) { c.Topics[0].ReplicationFactor = -3 }, "topics[0].replication_factor: must be at least 1, got -3"},
		{"topic duplicate", func(c *Config) { c.Topics = append(c.Topics, Topic{Name: "x"}, Topic{Name: "orders"}) }, `topics[2].name: "orders" is declared twice (first at topics[0])`},

		{"consumer topic", func(c *Config) { c.Consumers[0].Topic = "" }, "consumers[0].topic: required (or topic_pattern)"},
		{"topic pattern", func(c *Config) { c.Consumers[0].Topic, c.Consumers[0].TopicPattern = "", `orders\..*` }, ""},
		{"topic pattern with topic", func(c *Config) { c.Consumers[0].TopicPattern = `orders\..*` }, `consumers[0].topic_pattern: set with topic "orders": give one of them`},
		{"topic pattern bad", func(c *Config) { c.Consumers[0].Topic, c.Consumers[0].TopicPattern = "", `orders\.(` }, `consumers[0].topic_pattern: topic pattern "orders\\.(": error parsing regexp`},
		{"topic pattern retry topic", func(c *Config) {
			c.Consumers[0].Topic, c.Consumers[0].TopicPattern, c.Consumers[0].Ordering = "", "orders.*", OrderingKey
			c.Consumers[0].RetryTopic, c.Consumers[0].RetrySchedule = "retries", []time.Duration{time.Minute}
		}, "consumers[0].retry_topic: not with topic_pattern"},
		{"topic pattern batch", func(c *Config) {
			c.Consumers[0].Topic, c.Consumers[0].TopicPattern = "", "orders.*"
			c.Consumers[0].Handler.Exec.Batch = &Batch{Max: 10}
		}, "consumers[0].handler.exec.batch: not with topic_pattern"},
		{"topic pattern dead letters loop", func(c *Config) {
			c.Consumers[0].Topic, c.Consumers[0].TopicPattern, c.Consumers[0].DeadLetterTopic = "", `orders\..*`, "orders.failed"
		}, `consumers[0].dead_letter_topic: "orders.failed" matches topic_pattern`},
		{"topic pattern forward loop", func(c *Config) {
			c.Consumers[0].Topic, c.Consumers[0].TopicPattern = "", `orders\..*`
			c.Consumers[0].Handler = Handler{Forward: &ForwardHandler{Topic: "orders.copy"}}
		}, `consumers[0].handler.forward.topic: "orders.copy" matches topic_pattern`},
		{"metadata max age", func(c *Config) { c.Kafka.MetadataMaxAge = 100 * time.Millisecond }, "kafka.metadata_max_age: must be between 1s and 1h, got 100ms"},
		{"consumer topic name", func(c *Config) { c.Consumers[0].Topic = "a b" }, `consumers[0].topic: "a b" is not a valid topic name`},
		{"consumer group", func(c *Config) { c.Consumers[0].Group = "" }, "consumers[0].group: required"},
		{"ordering", func(c *Config) { c.Consumers[0].Ordering = "random" }, `consumers[0].ordering: "random" is not one of partition, key, unordered`},
		{"ordering key", func(c *Config) { c.Consumers[0].Ordering = OrderingKey }, ""},
		{"ordering unordered", func(c *Config) { c.Consumers[0].Ordering = OrderingUnordered }, ""},
		{"concurrency", func(c *Config) { c.Consumers[0].Concurrency = -1 }, "consumers[0].concurrency: must be at least 1, got -1"},
		{"max retries negative", func(c *Config) { c.Consumers[0].MaxRetries = ptr(-1) }, "consumers[0].max_retries: must be at least 0, got -1"},
		{"max retries zero", func(c *Config) { c.Consumers[0].MaxRetries = ptr(0) }, ""},
		{"consumer max in flight", func(c *Config) { c.Consumers[0].MaxInFlight = -5 }, "consumers[0].max_in_flight: must be at least 1, got -5"},
		{"backoff initial", func(c *Config) { c.Consumers[0].Backoff.Initial = -time.Millisecond }, "consumers[0].backoff.initial: must be greater than 0, got -1ms"},
		{"backoff max", func(c *Config) { c.Consumers[0].Backoff.Max = -time.Second }, "consumers[0].backoff.max: must be greater than 0, got -1s"},
		{"backoff initial over max", func(c *Config) { c.Consumers[0].Backoff = Backoff{Initial: 2 * time.Second, Max: time.Second} }, "consumers[0].backoff.initial: 2s is greater than backoff.max 1s"},
		{"backoff initial over default max", func(c *Config) { c.Consumers[0].Backoff.Initial = time.Minute }, "consumers[0].backoff.initial: 1m0s is greater than backoff.max 10s"},
		{"backoff equal", func(c *Config) { c.Consumers[0].Backoff = Backoff{Initial: time.Second, Max: time.Second} }, ""},
		{"backoff multiplier", func(c *Config) { c.Consumers[0].Backoff.Multiplier = 0.5 }, "consumers[0].backoff.multiplier: must be at least 1, got 0.5"},
		{"backoff multiplier one", func(c *Config) { c.Consumers[0].Backoff.Multiplier = 1 }, ""},
		{"isolation read uncommitted", func(c *Config) { c.Kafka.IsolationLevel = IsolationReadUncommitted }, ""},
		{"isolation bad", func(c *Config) { c.Kafka.IsolationLevel = "dirty" }, `kafka.isolation_level: "dirty" is not one of read_committed, read_uncommitted`},
		{"isolation uncommitted with exactly once", func(c *Config) {
			c.Kafka.IsolationLevel = IsolationReadUncommitted
			c.Consumers[0].ExactlyOnce = true
			c.Consumers[0].Handler = Handler{Forward: &ForwardHandler{Topic: "copy"}}
		}, "kafka.isolation_level: read_uncommitted with an exactly-once consumer (consumers[0].exactly_once)"},
		{"http batch", func(c *Config) {
			c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "http://h/x", Timeout: time.Second, Batch: &Batch{Max: 100, Wait: time.Second}}}
		}, ""},
		{"http batch max", func(c *Config) {
			c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "http://h/x", Timeout: time.Second, Batch: &Batch{Max: 0}}}
		}, "consumers[0].handler.http.batch.max: must be between 1 and 2048, got 0"},
		{"exec batch", func(c *Config) {
			c.Consumers[0].Handler = Handler{Exec: &ExecHandler{Command: []string{"./h.sh"}, Batch: &Batch{Max: 20}}}
		}, ""},
		{"exec batch stream", func(c *Config) {
			c.Consumers[0].Handler = Handler{Exec: &ExecHandler{Command: []string{"./h.sh"}, Mode: ExecStream, Batch: &Batch{Max: 20}}}
		}, "consumers[0].handler.exec.batch: not with mode stream"},
		{"http batch key ordering", func(c *Config) {
			c.Consumers[0].Ordering = OrderingKey
			c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "http://h/x", Timeout: time.Second, Batch: &Batch{Max: 10}}}
		}, `consumers[0].handler.http.batch: needs ordering: partition`},
		{"circuit tuned", func(c *Config) {
			c.Consumers[0].Circuit = Circuit{FailureRatio: 0.8, MinFailures: 10, Window: time.Minute,
				ProbeInterval: ProbeInterval{Initial: 500 * time.Millisecond, Max: 5 * time.Second}}
		}, ""},
		{"circuit off", func(c *Config) { c.Consumers[0].Circuit.Enabled = ptr(false) }, ""},
		{"circuit off but tuned", func(c *Config) {
			c.Consumers[0].Circuit = Circuit{Enabled: ptr(false), MinFailures: 3}
		}, "consumers[0].circuit: tuned while circuit.enabled is false (it would be ignored)"},
		{"parking", func(c *Config) {
			c.Consumers[0].Ordering = OrderingKey
			c.Consumers[0].RetryTopic, c.Consumers[0].RetrySchedule = "orders.retry", []time.Duration{time.Minute, 10 * time.Minute}
		}, ""},
		{"parking without schedule", func(c *Config) {
			c.Consumers[0].Ordering = OrderingKey
			c.Consumers[0].RetryTopic = "orders.retry"
		}, "consumers[0].retry_topic: set without retry_schedule"},
		{"schedule without parking", func(c *Config) { c.Consumers[0].RetrySchedule = []time.Duration{time.Minute} }, "consumers[0].retry_schedule: set without retry_topic (it would be ignored)"},
		{"parking partition ordering", func(c *Config) {
			c.Consumers[0].RetryTopic, c.Consumers[0].RetrySchedule = "orders.retry", []time.Duration{time.Minute}
		}, `consumers[0].retry_topic: needs ordering: key (parking keeps each key's order), not "partition"`},
		{"parking into the dlq", func(c *Config) {
			c.Consumers[0].Ordering = OrderingKey
			c.Consumers[0].RetryTopic, c.Consumers[0].RetrySchedule = c.Consumers[0].Topic+".dlq", []time.Duration{time.Minute}
		}, "is the dead-letter topic too"},
		{"parking bad delay", func(c *Config) {
			c.Consumers[0].Ordering = OrderingKey
			c.Consumers[0].RetryTopic, c.Consumers[0].RetrySchedule = "orders.retry", []time.Duration{time.Minute, 0}
		}, "consumers[0].retry_schedule: delay 2 is 0s, want above 0"},
		{"circuit ratio", func(c *Config) { c.Consumers[0].Circuit.FailureRatio = 1.5 }, "consumers[0].circuit.failure_ratio: must be above 0 and at most 1, got 1.5"},
		{"circuit min failures", func(c *Config) { c.Consumers[0].Circuit.MinFailures = -2 }, "consumers[0].circuit.min_failures: must be at least 1, got -2"},
		{"circuit window", func(c *Config) { c.Consumers[0].Circuit.Window = 10 * time.Millisecond }, "consumers[0].circuit.window: must be between 1s and 1h, got 10ms"},
		{"circuit probe max under initial", func(c *Config) {
			c.Consumers[0].Circuit.ProbeInterval = ProbeInterval{Initial: 5 * time.Second, Max: time.Second}
		}, "consumers[0].circuit.probe_interval.max: 1s is less than probe_interval.initial 5s"},
		{"circuit probe initial over default max", func(c *Config) { c.Consumers[0].Circuit.ProbeInterval.Initial = time.Minute }, "consumers[0].circuit.probe_interval.initial: 1m0s is more than the default probe_interval.max 30s: set max too"},
		{"backoff jitter negative", func(c *Config) { c.Consumers[0].Backoff.Jitter = -0.1 }, "consumers[0].backoff.jitter: must be between 0 and 1, got -0.1"},
		{"backoff jitter above one", func(c *Config) { c.Consumers[0].Backoff.Jitter = 1.5 }, "consumers[0].backoff.jitter: must be between 0 and 1, got 1.5"},
		{"backoff jitter one", func(c *Config) { c.Consumers[0].Backoff.Jitter = 1 }, ""},
		{"dead letter topic name", func(c *Config) { c.Consumers[0].DeadLetterTopic = "dlq!" }, `consumers[0].dead_letter_topic: "dlq!" is not a valid topic name`},
		{"dead letter to itself", func(c *Config) { c.Consumers[0].DeadLetterTopic = "orders" }, `consumers[0].dead_letter_topic: "orders" is the consumed topic itself`},
		{"dead letter topic while off", func(c *Config) {
			c.Consumers[0].DeadLetter = ptr(false)
			c.Consumers[0].DeadLetterTopic = "x"
		}, "consumers[0].dead_letter_topic: set while dead_letter is false"},
		{"dead letter off", func(c *Config) { c.Consumers[0].DeadLetter = ptr(false) }, ""},
		{"handler timeout", func(c *Config) { c.Consumers[0].HandlerTimeout = -time.Second }, "consumers[0].handler_timeout: must not be negative, got -1s"},

		{"no handler", func(c *Config) { c.Consumers[0].Handler = Handler{} }, "consumers[0].handler: set exactly one of exec, http, log, forward"},
		{"two handlers", func(c *Config) { c.Consumers[0].Handler.Log = &LogHandler{} }, "consumers[0].handler: set exactly one of exec, http, log, forward, not exec and log"},
		{"exec empty", func(c *Config) { c.Consumers[0].Handler.Exec.Command = []string{} }, "consumers[0].handler.exec: must name a command"},
		{"exec empty command", func(c *Config) { c.Consumers[0].Handler.Exec.Command = []string{""} }, "consumers[0].handler.exec: must name a command"},
		{"http", func(c *Config) {
			c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "https://svc.local:8443/orders"}}
		}, ""},
		{"http url missing", func(c *Config) { c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{}} }, "consumers[0].handler.http.url: required"},
		{"http url relative", func(c *Config) { c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "/orders"}} }, `consumers[0].handler.http.url: "/orders" is not an absolute http or https URL`},
		{"http url scheme", func(c *Config) { c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "ftp://h/x"}} }, `"ftp://h/x" is not an absolute http or https URL`},
		{"http url unparsable", func(c *Config) { c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "http://h:x\x7f"}} }, "consumers[0].handler.http.url: not a valid URL"},
		{"http url password hidden", func(c *Config) {
			c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "ftp://u:s3cret@h/"}}
		}, `"ftp://u:xxxxx@h/" is not`},
		{"http timeout", func(c *Config) {
			c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "http://h/", Timeout: -1}}
		}, "consumers[0].handler.http.timeout: must be greater than 0"},
		{"log", func(c *Config) { c.Consumers[0].Handler = Handler{Log: &LogHandler{File: "out.jsonl"}} }, ""},
		{"forward", func(c *Config) { c.Consumers[0].Handler = Handler{Forward: &ForwardHandler{Topic: "audit"}} }, ""},
		{"forward topic missing", func(c *Config) { c.Consumers[0].Handler = Handler{Forward: &ForwardHandler{}} }, "consumers[0].handler.forward.topic: required"},
		{"forward to itself", func(c *Config) { c.Consumers[0].Handler = Handler{Forward: &ForwardHandler{Topic: "orders"}} }, `consumers[0].handler.forward.topic: "orders" is the consumed topic itself`},
		{"second consumer indexed", func(c *Config) {
			c.Consumers = append(c.Consumers, Consumer{Topic: "orders", Group: "g", Ordering: "random", Handler: Handler{Log: &LogHandler{}}})
		}, `consumers[1].ordering: "random" is not one of partition, key, unordered`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v, want no error", err)
			case tc.want != "" && err == nil:
				t.Errorf("Validate: no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("Validate: %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Log.Level = "loud"
	c.Consumers[0].Ordering = "random"
	c.Topics[0].Partitions = -1
	err := c.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 3 {
		t.Fatalf("Validate = %v, want 3 joined problems", err)
	}
	for _, key := range []string{"log.level", "topics[0].partitions", "consumers[0].ordering"} {
		found := false
		for _, e := range joined.Unwrap() {
			var ke *KeyError
			if errors.As(e, &ke) && ke.Key == key && ke.Source == "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no KeyError for %s in %v", key, err)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	c := Config{Service: "shop", Runtime: Runtime{MaxInFlight: 7}}
	c.Topics = []Topic{{Name: "orders"}}
	c.Consumers = []Consumer{{Topic: "orders", Handler: Handler{HTTP: &HTTPHandler{URL: "http://h/"}}}}
	before := c.Consumers[0]
	d := c.WithDefaults()

	if d.Kafka.ClientID != "shop" || d.Events.Group != "shop" {
		t.Errorf("client ID %q, events group %q, want both shop", d.Kafka.ClientID, d.Events.Group)
	}
	if d.Topics[0].Partitions != 1 || d.Topics[0].ReplicationFactor != 1 {
		t.Errorf("topic = %+v, want partitions and replication factor 1", d.Topics[0])
	}
	cs := d.Consumers[0]
	want := Consumer{
		Topic:           "orders",
		MaxRetries:      ptr(3),
		Backoff:         Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2},
		Ordering:        "partition",
		Concurrency:     16,
		MaxInFlight:     7,
		DeadLetterTopic: "orders.dlq",
		DeadLetter:      ptr(true),
		FromBeginning:   ptr(true),
		Handler:         Handler{HTTP: &HTTPHandler{URL: "http://h/", Timeout: 30 * time.Second}},
	}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("consumer with defaults:\n got %+v\nwant %+v", cs, want)
	}
	if !reflect.DeepEqual(c.Consumers[0], before) || c.Consumers[0].Handler.HTTP.Timeout != 0 {
		t.Errorf("WithDefaults modified its receiver: %+v", c.Consumers[0])
	}
	if again := d.WithDefaults(); !reflect.DeepEqual(again, d) {
		t.Errorf("WithDefaults is not idempotent")
	}
	// A set value, even an invalid one, is kept for Validate to report.
	c.Consumers[0].Concurrency = -1
	if got := c.WithDefaults().Consumers[0].Concurrency; got != -1 {
		t.Errorf("concurrency -1 became %d", got)
	}
}
