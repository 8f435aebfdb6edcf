package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// noEnv keeps a test from reading the process environment.
var noEnv = []string{}

// writeConfig writes content as actord.yaml in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "actord.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustLoad loads src and fails the test on error.
func mustLoad(t *testing.T, src Source) Config {
	t.Helper()
	cfg, err := Load(src)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestLoadDefaultsOnly(t *testing.T) {
	t.Chdir(t.TempDir())
	got := mustLoad(t, Source{Env: noEnv})
	want := Default().WithDefaults()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load with no sources:\n got %+v\nwant %+v", got, want)
	}
	if got.Kafka.ClientID != "actord" || got.Events.Group != "actord" {
		t.Errorf("client ID %q, events group %q: want both from the service name", got.Kafka.ClientID, got.Events.Group)
	}
}

func TestLoadPrecedence(t *testing.T) {
	keys := []struct {
		key                              string
		fileYAML, env                    string
		flag                             any
		def, fromFile, fromEnv, fromFlag any
		get                              func(Config) any
	}{
		{
			key:      "kafka.bootstrap_servers",
			fileYAML: "kafka: {bootstrap_servers: file:9092}",
			env:      "ACTORD_KAFKA_BOOTSTRAP_SERVERS=env:9092",
			flag:     "flag:9092",
			def:      "localhost:9092", fromFile: "file:9092", fromEnv: "env:9092", fromFlag: "flag:9092",
			get: func(c Config) any { return c.Kafka.BootstrapServers },
		},
		{
			key:      "kafka.enabled",
			fileYAML: "kafka: {enabled: false}",
			env:      "ACTORD_KAFKA_ENABLED=true",
			flag:     false,
			def:      true, fromFile: false, fromEnv: true, fromFlag: false,
			get: func(c Config) any { return c.Kafka.Enabled },
		},
		{
			key:      "runtime.commit_interval",
			fileYAML: "runtime: {commit_interval: 100ms}",
			env:      "ACTORD_RUNTIME_COMMIT_INTERVAL=2s",
			flag:     "3s",
			def:      time.Second, fromFile: 100 * time.Millisecond, fromEnv: 2 * time.Second, fromFlag: 3 * time.Second,
			get: func(c Config) any { return c.Runtime.CommitInterval },
		},
		{
			key:      "log.level",
			fileYAML: "log: {level: debug}",
			env:      "ACTORD_LOG_LEVEL=warn",
			flag:     "error",
			def:      "info", fromFile: "debug", fromEnv: "warn", fromFlag: "error",
			get: func(c Config) any { return c.Log.Level },
		},
		{
			key:      "broker.default_partitions",
			fileYAML: "broker: {default_partitions: 2}",
			env:      "ACTORD_BROKER_DEFAULT_PARTITIONS=3",
			flag:     4,
			def:      1, fromFile: 2, fromEnv: 3, fromFlag: 4,
			get: func(c Config) any { return c.Broker.DefaultPartitions },
		},
		{
			key:      "runtime.fetch_partition_bytes",
			fileYAML: "runtime: {fetch_partition_bytes: 65536}",
			env:      "ACTORD_RUNTIME_FETCH_PARTITION_BYTES=1048576",
			flag:     2048,
			def:      262144, fromFile: 65536, fromEnv: 1048576, fromFlag: 2048,
			get: func(c Config) any { return c.Runtime.FetchPartitionBytes },
		},
		{
			key:      "broker.data_dir",
			fileYAML: "broker: {data_dir: /file}",
			env:      "ACTORD_BROKER_DATA_DIR=/env",
			flag:     "/flag",
			def:      "", fromFile: "/file", fromEnv: "/env", fromFlag: "/flag",
			get: func(c Config) any { return c.Broker.DataDir },
		},
	}
	for _, k := range keys {
		cases := []struct {
			name string
			file bool
			env  bool
			flag bool
			want any
		}{
			{"default", false, false, false, k.def},
			{"file over default", true, false, false, k.fromFile},
			{"env over file", true, true, false, k.fromEnv},
			{"flag over env", true, true, true, k.fromFlag},
			{"flag over default", false, false, true, k.fromFlag},
		}
		for _, tc := range cases {
			t.Run(k.key+"/"+tc.name, func(t *testing.T) {
				src := Source{File: writeConfig(t, "service: svc\n"), Env: noEnv}
				if tc.file {
					src.File = writeConfig(t, k.fileYAML)
				}
				if tc.env {
					src.Env = []string{"OTHER=1", k.env}
				}
				if tc.flag {
					src.Flags = map[string]any{k.key: k.flag}
				}
				cfg := mustLoad(t, src)
				if got := k.get(cfg); got != tc.want {
					t.Errorf("%s = %#v, want %#v", k.key, got, tc.want)
				}
			})
		}
	}
}

func TestLoadFindsFileInWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "actord.yaml"), []byte("service: billing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	cfg := mustLoad(t, Source{Env: noEnv})
	if cfg.Service != "billing" || cfg.File != "actord.yaml" {
		t.Errorf("service %q from file %q, want billing from actord.yaml", cfg.Service, cfg.File)
	}

	t.Chdir(t.TempDir())
	cfg = mustLoad(t, Source{Env: noEnv})
	if cfg.Service != "actord" || cfg.File != "" {
		t.Errorf("without a file: service %q from %q, want actord from no file", cfg.Service, cfg.File)
	}
}

func TestLoadNamedFileMissing(t *testing.T) {
	name := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(Source{File: name, Env: noEnv})
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Load(%s) = %v, want an error naming the file", name, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestLoadProblems(t *testing.T) {
	cases := []struct {
		name  string
		yaml  string
		env   []string
		flags map[string]any
		want  []string // each must appear in the one error
		not   []string // none may appear
	}{
		{
			name: "unknown top-level key",
			yaml: "kafak:\n  enabled: true\n",
			want: []string{"actord.yaml: kafak: unknown key (did you mean kafka?)"},
		},
		{
			name: "unknown nested key",
			yaml: "kafka:\n  sasl:\n    mechansim: PLAIN\n",
			want: []string{"actord.yaml: kafka.sasl.mechansim: unknown key (did you mean mechanism?)"},
		},
		{
			name: "unknown key in a list item",
			yaml: "consumers:\n  - topic: orders\n    group: g\n    handler:\n      exce: [./h.sh]\n",
			want: []string{"actord.yaml: consumers[0].handler.exce: unknown key (did you mean exec?)"},
			// The handler left empty by the typo is a consequence, not
			// a second problem.
			not: []string{"exactly one"},
		},
		{
			name: "wrong type",
			yaml: "topics:\n  - {name: orders, partitions: three}\n",
			want: []string{`actord.yaml: topics[0].partitions: expected an integer, got "three"`},
		},
		{
			name: "number out of range",
			yaml: "topics:\n  - {name: orders, replication_factor: 70000}\n",
			want: []string{"topics[0].replication_factor: 70000 is out of range"},
		},
		{
			name: "section that is not a mapping",
			yaml: "kafka: 5\n",
			want: []string{"actord.yaml: kafka: expected a mapping of keys, got 5"},
		},
		{
			name: "file and environment problems in one section",
			yaml: "kafka: 5\n",
			env:  []string{"ACTORD_KAFKA_DIAL_TIMEOUT=soon"},
			want: []string{
				"actord.yaml: kafka: expected a mapping of keys, got 5",
				`env ACTORD_KAFKA_DIAL_TIMEOUT: kafka.dial_timeout: "soon" is not a duration`,
			},
		},
		{
			name: "list that is not a list",
			yaml: "consumers: {topic: orders}\n",
			want: []string{"actord.yaml: consumers: expected a list, got a mapping"},
		},
		{
			name: "list item that is not a mapping",
			yaml: "topics: [orders, {name: ok, partitions: -1}]\n",
			want: []string{
				`actord.yaml: topics[0]: expected a mapping of keys, got "orders"`,
				"actord.yaml: topics[1].partitions: must be at least 1, got -1",
			},
			not: []string{"topics[0].name"},
		},
		{
			name: "exec as a string",
			yaml: "consumers:\n  - {topic: a, group: g, handler: {exec: ./h.sh}}\n",
			want: []string{`consumers[0].handler.exec: expected a list (the command) or a mapping (command, mode), got "./h.sh"`},
		},
		{
			name: "bare integer duration",
			yaml: "runtime:\n  commit_interval: 100\n",
			want: []string{"actord.yaml: runtime.commit_interval: 100 is not a duration: write it with a unit, like 100ms or 10s"},
		},
		{
			name: "bad duration in a list item",
			yaml: "consumers:\n  - {topic: a, group: g, handler: {log: {}}, backoff: {initial: fast}}\n",
			want: []string{`actord.yaml: consumers[0].backoff.initial: "fast" is not a duration`},
		},
		{
			name: "invalid value",
			yaml: "consumers:\n  - {topic: a, group: g, handler: {log: {}}}\n  - {topic: b, group: g, ordering: random, handler: {log: {}}}\n",
			want: []string{`actord.yaml: consumers[1].ordering: "random" is not one of partition, key, unordered`},
		},
		{
			name: "every problem at once",
			yaml: `
service: svc
kafka:
  bootstrap_servers: nohost
  dial_timeout: 0s
  color: blue
topics:
  - {name: "bad name", partitions: three}
consumers:
  - {topic: a, group: g, handler: {log: {}}, ordering: random}
  - {group: g, handler: {exec: [./h.sh], log: {}}, concurrency: -2}
`,
			want: []string{
				`actord.yaml: kafka.bootstrap_servers: "nohost" is not host:port`,
				"actord.yaml: kafka.dial_timeout: must be greater than 0, got 0s",
				"actord.yaml: kafka.color: unknown key",
				`actord.yaml: topics[0].name: "bad name" is not a valid topic name`,
				`actord.yaml: topics[0].partitions: expected an integer, got "three"`,
				`actord.yaml: consumers[0].ordering: "random" is not one of partition, key, unordered`,
				"actord.yaml: consumers[1].topic: required",
				"actord.yaml: consumers[1].handler: set exactly one of exec, http, log, forward, not exec and log",
				"actord.yaml: consumers[1].concurrency: must be at least 1, got -2",
			},
		},
		{
			name: "syntax error names the line",
			yaml: "kafka:\n  enabled: true\n bad: 1\n",
			want: []string{"actord.yaml: line 2:"},
		},
		{
			name: "duplicate key names the line",
			yaml: "service: a\nservice: b\n",
			want: []string{"actord.yaml: line 2: mapping key \"service\" already defined at line 1"},
		},
		{
			name: "file that is not a mapping",
			yaml: "- a\n- b\n",
			want: []string{"actord.yaml: line 1: the file must be a mapping of keys, not a list"},
		},
		{
			name: "bad environment value",
			env:  []string{"ACTORD_RUNTIME_COMMIT_INTERVAL=2", "ACTORD_KAFKA_ENABLED=maybe"},
			want: []string{
				`env ACTORD_RUNTIME_COMMIT_INTERVAL: runtime.commit_interval: "2" is not a duration`,
				`env ACTORD_KAFKA_ENABLED: kafka.enabled: "maybe" is not true or false`,
			},
		},
		{
			name: "invalid value from the environment",
			yaml: "log: {level: debug}\n",
			env:  []string{"ACTORD_LOG_LEVEL=verbose"},
			want: []string{`env ACTORD_LOG_LEVEL: log.level: "verbose" is not one of debug, info, warn, error`},
			not:  []string{"actord.yaml"},
		},
		{
			name:  "unknown flag key",
			flags: map[string]any{"kafka.bootstrap_server": "h:1"},
			want:  []string{"command line: kafka.bootstrap_server: unknown key (did you mean kafka.bootstrap_servers?)"},
		},
		{
			name:  "invalid flag value",
			flags: map[string]any{"broker.listen": "nope", "runtime.max_in_flight": "many"},
			want: []string{
				`command line: broker.listen: "nope" is not host:port`,
				`command line: runtime.max_in_flight: "many" is not an integer`,
			},
		},
		{
			name:  "flag of the wrong Go type",
			flags: map[string]any{"kafka.enabled": 3},
			want:  []string{"command line: kafka.enabled: expected true or false, got 3"},
		},
		{
			name: "password never shown",
			yaml: "kafka:\n  sasl: {mechanism: BOGUS, user: u, password: hunter2}\n",
			want: []string{`actord.yaml: kafka.sasl.mechanism: "BOGUS" is not one of PLAIN`},
			not:  []string{"hunter2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := Source{File: writeConfig(t, tc.yaml), Env: noEnv, Flags: tc.flags}
			if tc.env != nil {
				src.Env = tc.env
			}
			_, err := Load(src)
			if err == nil {
				t.Fatal("Load: want an error, got none")
			}
			msg := strings.ReplaceAll(err.Error(), src.File, "actord.yaml")
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("error has %q; got:\n%s", n, msg)
				}
			}
		})
	}
}

// TestLoadProblemsAreKeyErrors checks the shape callers rely on: one
// *KeyError a problem, joined, one a line.
func TestLoadProblemsAreKeyErrors(t *testing.T) {
	path := writeConfig(t, "log: {level: loud, format: xml}\n")
	_, err := Load(Source{File: path, Env: noEnv})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Load error %T is not joined", err)
	}
	errs := joined.Unwrap()
	if len(errs) != 2 {
		t.Fatalf("got %d problems, want 2: %v", len(errs), err)
	}
	var ke *KeyError
	if !errors.As(errs[1], &ke) || ke.Key != "log.format" || ke.Source != path {
		t.Errorf("second problem = %#v, want a KeyError for log.format from %s", errs[1], path)
	}
	if n := strings.Count(err.Error(), "\n"); n != 1 {
		t.Errorf("error has %d newlines, want one problem a line:\n%s", n, err)
	}
}

func TestLoadConsumerDefaults(t *testing.T) {
	path := writeConfig(t, `
service: shop
runtime: {max_in_flight: 500}
topics:
  - {name: orders}
consumers:
  - topic: orders
    group: processor
    handler: {http: {url: "http://localhost:8080/orders"}}
  - topic: orders
    group: audit
    max_retries: 0
    dead_letter: false
    from_beginning: false
    backoff: {initial: 1s, max: 2s, multiplier: 1.5, jitter: 0}
    ordering: key
    concurrency: 4
    max_in_flight: 10
    handler:
      log:
`)
	cfg := mustLoad(t, Source{File: path, Env: noEnv})
	if got := cfg.Topics[0]; got.Partitions != 1 || got.ReplicationFactor != 1 {
		t.Errorf("topic defaults: partitions %d, replication factor %d, want 1 and 1", got.Partitions, got.ReplicationFactor)
	}
	c := cfg.Consumers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"ordering", c.Ordering, "partition"},
		{"concurrency", c.Concurrency, 16},
		{"max_retries", *c.MaxRetries, 3},
		{"max_in_flight", c.MaxInFlight, 500},
		{"backoff", c.Backoff, Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.2}},
		{"dead_letter", *c.DeadLetter, true},
		{"dead_letter_topic", c.DeadLetterTopic, "orders.dlq"},
		{"from_beginning", *c.FromBeginning, true},
		{"handler.http.timeout", c.Handler.HTTP.Timeout, 30 * time.Second},
		{"handler_timeout", c.HandlerTimeout, time.Duration(0)},
	}
	c = cfg.Consumers[1]
	checks = append(checks, []struct {
		name      string
		got, want any
	}{
		{"[1] ordering", c.Ordering, "key"},
		{"[1] concurrency", c.Concurrency, 4},
		{"[1] max_retries", *c.MaxRetries, 0},
		{"[1] max_in_flight", c.MaxInFlight, 10},
		{"[1] backoff", c.Backoff, Backoff{Initial: time.Second, Max: 2 * time.Second, Multiplier: 1.5, Jitter: 0}},
		{"[1] dead_letter", *c.DeadLetter, false},
		{"[1] dead_letter_topic", c.DeadLetterTopic, ""},
		{"[1] from_beginning", *c.FromBeginning, false},
		{"[1] handler.log", c.Handler.Log != nil, true},
	}...)
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	if again := cfg.WithDefaults(); !reflect.DeepEqual(again, cfg) {
		t.Errorf("WithDefaults on a loaded config changed it:\n got %+v\nwant %+v", again, cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate on a loaded config: %v", err)
	}
}

func TestLoadTopicConfigValuesAsStrings(t *testing.T) {
	path := writeConfig(t, "topics:\n  - name: orders\n    config: {retention.ms: 86400000, cleanup.policy: compact, preallocate: true}\n")
	cfg := mustLoad(t, Source{File: path, Env: noEnv})
	want := map[string]string{"retention.ms": "86400000", "cleanup.policy": "compact", "preallocate": "true"}
	if got := cfg.Topics[0].Config; !reflect.DeepEqual(got, want) {
		t.Errorf("topic config = %v, want %v", got, want)
	}
}

func TestKeysAndEnvNames(t *testing.T) {
	keys := Keys()
	seen := map[string]string{}
	for _, k := range keys {
		name := EnvName(k)
		if other, dup := seen[name]; dup {
			t.Errorf("keys %s and %s share the variable %s", other, k, name)
		}
		seen[name] = k
	}
	for _, k := range []string{"kafka.bootstrap_servers", "kafka.sasl.password_file", "broker.listen", "log.level", "runtime.commit_interval"} {
		if _, ok := seen[EnvName(k)]; !ok {
			t.Errorf("Keys() lacks %s", k)
		}
	}
	if got := EnvName("kafka.bootstrap_servers"); got != "ACTORD_KAFKA_BOOTSTRAP_SERVERS" {
		t.Errorf("EnvName = %s", got)
	}
}

// TestLoadDesignExample loads the example of the design document as is.
func TestLoadDesignExample(t *testing.T) {
	path := writeConfig(t, `
kafka:
  enabled: true                 # false: embedded broker in-process
  bootstrap_servers: localhost:9092
topics:
  - {name: orders, partitions: 3, replication_factor: 1}
consumers:
  - topic: orders
    group: processor
    max_retries: 3
    backoff: {initial: 100ms, max: 10s}
    ordering: key               # partition | key | unordered
    concurrency: 16
    dead_letter_topic: orders.dlq
    handler:
      exec: ["./handle.sh"]     # or http: {url: ...}, log: {}, forward: {topic: ...}
`)
	cfg := mustLoad(t, Source{File: path, Env: noEnv})
	c := cfg.Consumers[0]
	if c.Ordering != OrderingKey || c.Backoff.Initial != 100*time.Millisecond || c.DeadLetterTopic != "orders.dlq" ||
		len(c.Handler.Exec.Command) != 1 || cfg.Topics[0].Partitions != 3 || cfg.File != path {
		t.Errorf("design example loaded as %+v", cfg)
	}
}
