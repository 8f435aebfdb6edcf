package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/supervisor"
)

// The ordering modes of a consumer (Consumer.Ordering).
const (
	// OrderingPartition handles a partition's records one at a time, in
	// offset order. The default.
	OrderingPartition = "partition"
	// OrderingKey handles records of one key in order, different keys of
	// a partition in parallel.
	OrderingKey = "key"
	// OrderingUnordered handles a partition's records in parallel.
	OrderingUnordered = "unordered"
)

// The SASL mechanisms Kafka.SASL.Mechanism accepts; empty means none.
const (
	// MechanismPlain sends the user and password as they are: use it
	// over TLS only.
	MechanismPlain = "PLAIN"
	// MechanismScramSHA256 proves the password without sending it.
	MechanismScramSHA256 = "SCRAM-SHA-256"
	// MechanismScramSHA512 is SCRAM with SHA-512.
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// The defaults WithDefaults (and Load) fill into a consumer's unset
// fields. Each has its one home in the package that owns the behaviour;
// these name them for the config file.
const (
	// DefaultOrdering is consumers[].ordering.
	DefaultOrdering = OrderingPartition
	// DefaultConcurrency is consumers[].concurrency (actors.DefaultConcurrency).
	DefaultConcurrency = actors.DefaultConcurrency
	// DefaultMaxRetries is consumers[].max_retries: four attempts in all
	// (supervisor.DefaultMaxRetries).
	DefaultMaxRetries = supervisor.DefaultMaxRetries
	// DefaultBackoffInitial is consumers[].backoff.initial
	// (supervisor.DefaultInitialBackoff).
	DefaultBackoffInitial = supervisor.DefaultInitialBackoff
	// DefaultBackoffMax is consumers[].backoff.max (supervisor.DefaultMaxBackoff).
	DefaultBackoffMax = supervisor.DefaultMaxBackoff
	// DefaultBackoffMultiplier is consumers[].backoff.multiplier
	// (supervisor.DefaultMultiplier).
	DefaultBackoffMultiplier = supervisor.DefaultMultiplier
	// DefaultJitter is filled by Load when backoff.jitter is absent from
	// the file; WithDefaults leaves Jitter alone, since 0 means no jitter
	// (supervisor.DefaultJitter).
	DefaultJitter = supervisor.DefaultJitter
	// DefaultDeadLetterSuffix makes the default dead-letter topic:
	// "orders" dead-letters to "orders.dlq" (actors.DefaultDeadLetterSuffix).
	DefaultDeadLetterSuffix = actors.DefaultDeadLetterSuffix
	// DefaultHTTPTimeout is consumers[].handler.http.timeout: the http
	// handler kind exists only in the config file, so its default lives
	// here.
	DefaultHTTPTimeout = 30 * time.Second
)

// The upper bounds of the keys that size what a partition holds in
// memory: the library's own (actors.MaxConcurrency, actors.MaxInFlightLimit).
const (
	// MaxConcurrency is the most handler actors a partition may run
	// (consumers[].concurrency).
	MaxConcurrency = actors.MaxConcurrency
	// MaxInFlightLimit is the most fetched but unfinished records a
	// partition may hold (runtime.max_in_flight, consumers[].max_in_flight).
	MaxInFlightLimit = actors.MaxInFlightLimit
)

// The defaults of the daemon's own keys, which the library does not have.
const (
	// DefaultBootstrapServers is kafka.bootstrap_servers.
	DefaultBootstrapServers = "localhost:9092"
	// DefaultDialTimeout is kafka.dial_timeout.
	DefaultDialTimeout = 5 * time.Second
	// DefaultBrokerListen is broker.listen.
	DefaultBrokerListen = "127.0.0.1:9092"
	// DefaultHTTPListen is http.listen.
	DefaultHTTPListen = "127.0.0.1:9464"
)

// WithDefaults returns a copy of c with every unset value that has a
// derived or per-item default filled in: Kafka.ClientID and Events.Group
// from Service; a topic's partitions and replication factor (0 means 1);
// and a consumer's ordering, concurrency, max retries, max in flight (from
// runtime.max_in_flight), backoff initial, max and multiplier, dead letter
// (true) and its topic ("<topic>.dlq"), from beginning (true) and HTTP
// handler timeout. Values already set, valid or not, are kept. c is not
// modified; WithDefaults is idempotent. Load applies it.
func (c Config) WithDefaults() Config {
	if c.Kafka.ClientID == "" {
		c.Kafka.ClientID = c.Service
	}
	if c.Events.Group == "" {
		c.Events.Group = c.Service
	}
	c.Topics = slices.Clone(c.Topics)
	for i := range c.Topics {
		t := &c.Topics[i]
		if t.Partitions == 0 {
			t.Partitions = 1
		}
		if t.ReplicationFactor == 0 {
			t.ReplicationFactor = 1
		}
	}
	c.Consumers = slices.Clone(c.Consumers)
	for i := range c.Consumers {
		c.Consumers[i] = c.Consumers[i].withDefaults(c.Runtime)
	}
	return c
}

func (cs Consumer) withDefaults(rt Runtime) Consumer {
	if cs.Ordering == "" {
		cs.Ordering = DefaultOrdering
	}
	if cs.Concurrency == 0 {
		cs.Concurrency = DefaultConcurrency
	}
	if cs.MaxRetries == nil {
		cs.MaxRetries = ptr(DefaultMaxRetries)
	}
	if cs.MaxInFlight == 0 {
		cs.MaxInFlight = rt.MaxInFlight
	}
	if cs.Backoff.Initial == 0 {
		cs.Backoff.Initial = DefaultBackoffInitial
	}
	if cs.Backoff.Max == 0 {
		cs.Backoff.Max = DefaultBackoffMax
	}
	if cs.Backoff.Multiplier == 0 {
		cs.Backoff.Multiplier = DefaultBackoffMultiplier
	}
	if cs.DeadLetter == nil {
		cs.DeadLetter = ptr(true)
	}
	if *cs.DeadLetter && cs.DeadLetterTopic == "" && cs.Topic != "" {
		cs.DeadLetterTopic = cs.Topic + DefaultDeadLetterSuffix
	}
	if cs.FromBeginning == nil {
		cs.FromBeginning = ptr(true)
	}
	if h := cs.Handler.HTTP; h != nil && h.Timeout == 0 {
		cp := *h
		cp.Timeout = DefaultHTTPTimeout
		cs.Handler.HTTP = &cp
	}
	return cs
}

func ptr[T any](v T) *T { return &v }

// Validate checks c, with its defaults filled in (see WithDefaults), and
// returns every problem found, joined with errors.Join; each is a
// *KeyError naming the key with its list index, for example
//
//	consumers[1].ordering: "random" is not one of partition, key, unordered
//
// Zero values that have a default (a consumer's concurrency, a topic's
// partitions) are not problems.
func (c Config) Validate() error {
	problems := c.WithDefaults().problems()
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// checker collects problems in the order they are found.
type checker struct{ out []*KeyError }

func (ck *checker) add(key, format string, args ...any) {
	ck.out = append(ck.out, &KeyError{Key: key, Err: fmt.Errorf(format, args...)})
}

func (ck *checker) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		ck.add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func (ck *checker) positive(key string, d time.Duration) {
	if d <= 0 {
		ck.add(key, "must be greater than 0, got %s", d)
	}
}

func (ck *checker) atLeast(key string, n, lo int64) {
	if n < lo {
		ck.add(key, "must be at least %d, got %d", lo, n)
	}
}

func (ck *checker) between(key string, n, lo, hi int64) {
	switch {
	case n < lo:
		ck.add(key, "must be at least %d, got %d", lo, n)
	case n > hi:
		ck.add(key, "must be at most %d, got %d", hi, n)
	}
}

func (ck *checker) topic(key, name string) {
	if name == "" {
		ck.add(key, "required")
		return
	}
	if err := checkTopicName(name); err != nil {
		ck.add(key, "%q is not a valid topic name: %v", name, err)
	}
}

// checkTopicName applies Kafka's rules for topic names.
func checkTopicName(name string) error {
	if len(name) > 249 {
		return fmt.Errorf("longer than 249 characters")
	}
	if name == "" || name == "." || name == ".." {
		return errors.New(`must not be empty, "." or ".."`)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return errors.New("use only a-z A-Z 0-9 . _ -")
		}
	}
	return nil
}

// hostPort checks a host:port address. A listener may leave the host
// empty (all interfaces) and use port 0 (a free port); a broker address
// may not.
func (ck *checker) hostPort(key, addr string, listener bool) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && host == "" && !listener {
		err = errors.New("no host")
	}
	if err == nil {
		n, perr := strconv.Atoi(port)
		lo := 1
		if listener {
			lo = 0
		}
		if perr != nil || n < lo || n > 65535 {
			err = errors.New("bad port")
		}
	}
	if err != nil {
		ck.add(key, "%s is not host:port", clipQuoted(addr))
	}
}

// problems checks a config whose defaults are filled in.
func (c Config) problems() []*KeyError {
	var ck checker
	if c.Service == "" {
		ck.add("service", "must not be empty (it names the client ID and the event group)")
	}
	c.Kafka.check(&ck)
	ck.hostPort("broker.listen", c.Broker.Listen, true)
	ck.atLeast("broker.default_partitions", int64(c.Broker.DefaultPartitions), 1)
	c.Broker.check(&ck, c.Kafka)
	if l := c.Broker.SchemaRegistry.Listen; l != "" {
		ck.hostPort("broker.schema_registry.listen", l, true)
	}
	c.SchemaRegistry.check(&ck, !c.Kafka.Enabled && c.Broker.SchemaRegistry.Listen != "")
	// franz-go refuses an autocommit interval under 100ms.
	if c.Runtime.CommitInterval < actors.MinCommitInterval {
		ck.add("runtime.commit_interval", "must be at least %s, got %s", actors.MinCommitInterval, c.Runtime.CommitInterval)
	}
	ck.positive("runtime.drain_timeout", c.Runtime.DrainTimeout)
	ck.between("runtime.max_in_flight", int64(c.Runtime.MaxInFlight), 1, MaxInFlightLimit)
	if n := c.Runtime.FetchPartitionBytes; n < 1024 || n > 1<<30 {
		ck.add("runtime.fetch_partition_bytes", "must be between 1024 and 1073741824 (1 GiB), got %d", n)
	}
	if c.Runtime.StallTimeout < 0 {
		ck.add("runtime.stall_timeout", "must be 0 (off) or positive, got %s", c.Runtime.StallTimeout)
	}
	ck.topic("events.topic", c.Events.Topic)
	ck.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	ck.oneOf("log.format", c.Log.Format, "text", "json")
	if c.HTTP.Listen != "" {
		ck.hostPort("http.listen", c.HTTP.Listen, true)
	}
	c.HTTP.checkAdmin(&ck)
	c.Tracing.check(&ck)
	c.Producer.check(&ck)
	c.Kafka.checkGroups(&ck)
	c.checkIsolation(&ck)
	seen := map[string]int{}
	for i, t := range c.Topics {
		key := fmt.Sprintf("topics[%d]", i)
		ck.topic(key+".name", t.Name)
		if first, dup := seen[t.Name]; dup && t.Name != "" {
			ck.add(key+".name", "%q is declared twice (first at topics[%d])", t.Name, first)
		} else {
			seen[t.Name] = i
		}
		ck.atLeast(key+".partitions", int64(t.Partitions), 1)
		ck.atLeast(key+".replication_factor", int64(t.ReplicationFactor), 1)
		for k := range t.Config {
			if k == "" {
				ck.add(key+".config", "a config name is empty")
			}
		}
	}
	for i, cs := range c.Consumers {
		cs.check(&ck, fmt.Sprintf("consumers[%d]", i))
		cs.Schema.check(&ck, fmt.Sprintf("consumers[%d].schema", i), cs, c.SchemaRegistry.On() || !c.Kafka.Enabled && c.Broker.SchemaRegistry.Listen != "")
	}
	return ck.out
}

func (k Kafka) check(ck *checker) {
	if k.Enabled {
		brokers := k.Brokers()
		if len(brokers) == 0 {
			ck.add("kafka.bootstrap_servers", "required when kafka.enabled is true")
		}
		// A runaway list is reported by its first few bad entries.
		bad := 0
		for _, b := range brokers {
			var one checker
			if one.hostPort("kafka.bootstrap_servers", b, false); len(one.out) == 0 {
				continue
			}
			if bad++; bad <= maxBadBrokers {
				ck.out = append(ck.out, one.out...)
			}
		}
		if bad > maxBadBrokers {
			ck.add("kafka.bootstrap_servers", "%d more of its %d entries are not host:port", bad-maxBadBrokers, len(brokers))
		}
	}
	ck.positive("kafka.dial_timeout", k.DialTimeout)
	ck.positive("kafka.request_timeout", k.RequestTimeout)
	if k.SessionTimeout < 6*time.Second || k.SessionTimeout > 5*time.Minute {
		ck.add("kafka.session_timeout", "must be between 6s and 5m (the brokers' usual group.min/max.session.timeout.ms), got %s", k.SessionTimeout)
	}
	if d := k.MetadataMaxAge; d != 0 && (d < time.Second || d > time.Hour) {
		ck.add("kafka.metadata_max_age", "must be between 1s and 1h, got %s", d)
	}

	s := k.SASL
	switch s.Mechanism {
	case "":
		if s.User != "" || s.Password != "" || s.PasswordFile != "" {
			ck.add("kafka.sasl.mechanism", "required when kafka.sasl.user, password or password_file is set")
		}
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		if s.User == "" {
			ck.add("kafka.sasl.user", "required with mechanism %s", s.Mechanism)
		}
		if s.Password == "" && s.PasswordFile == "" {
			ck.add("kafka.sasl.password", "required with mechanism %s (or set kafka.sasl.password_file)", s.Mechanism)
		}
	default:
		ck.add("kafka.sasl.mechanism", "%q is not one of %s, %s, %s (or empty for none)",
			s.Mechanism, MechanismPlain, MechanismScramSHA256, MechanismScramSHA512)
	}

	t := k.TLS
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "") {
		ck.add("kafka.tls.enabled", "false while ca_file, cert_file, key_file or server_name is set: set it to true or remove them")
	}
	if t.CertFile != "" && t.KeyFile == "" {
		ck.add("kafka.tls.key_file", "required with kafka.tls.cert_file")
	}
	if t.KeyFile != "" && t.CertFile == "" {
		ck.add("kafka.tls.cert_file", "required with kafka.tls.key_file")
	}
}

// check validates the embedded broker's security keys, and that the
// in-process clients of kafka.enabled false can meet what the broker
// requires.
func (b Broker) check(ck *checker, k Kafka) {
	s := b.SASL
	switch s.Mechanism {
	case "":
		if s.User != "" || s.Password != "" || s.PasswordFile != "" {
			ck.add("broker.sasl.mechanism", "required when broker.sasl.user, password or password_file is set")
		}
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		if s.User == "" {
			ck.add("broker.sasl.user", "required with mechanism %s", s.Mechanism)
		}
		if s.Password == "" && s.PasswordFile == "" {
			ck.add("broker.sasl.password", "required with mechanism %s (or set broker.sasl.password_file)", s.Mechanism)
		}
		if !k.Enabled && k.SASL.Mechanism == "" {
			ck.add("kafka.sasl.mechanism", "required when kafka.enabled is false and broker.sasl.mechanism is set: the in-process clients must authenticate to the embedded broker")
		}
	default:
		ck.add("broker.sasl.mechanism", "%q is not one of %s, %s, %s (or empty for none)",
			s.Mechanism, MechanismPlain, MechanismScramSHA256, MechanismScramSHA512)
	}

	t := b.TLS
	if t.CertFile != "" && t.KeyFile == "" {
		ck.add("broker.tls.key_file", "required with broker.tls.cert_file")
	}
	if t.KeyFile != "" && t.CertFile == "" {
		ck.add("broker.tls.cert_file", "required with broker.tls.key_file")
	}
	if t.ClientCAFile != "" && t.CertFile == "" {
		ck.add("broker.tls.cert_file", "required with broker.tls.client_ca_file (mutual TLS needs the broker's own certificate)")
	}
	if t.CertFile != "" && !k.Enabled && !k.TLS.Enabled {
		ck.add("kafka.tls.enabled", "must be true when kafka.enabled is false and broker.tls.cert_file is set: the in-process clients dial the embedded broker over TLS")
	}
}

func (cs Consumer) check(ck *checker, key string) {
	cs.checkSource(ck, key)
	if cs.Group == "" {
		ck.add(key+".group", "required")
	}
	ck.oneOf(key+".ordering", cs.Ordering, OrderingPartition, OrderingKey, OrderingUnordered)
	ck.between(key+".concurrency", int64(cs.Concurrency), 1, MaxConcurrency)
	if cs.MaxRetries != nil {
		ck.atLeast(key+".max_retries", int64(*cs.MaxRetries), 0)
	}
	ck.between(key+".max_in_flight", int64(cs.MaxInFlight), 1, MaxInFlightLimit)

	b := cs.Backoff
	ck.positive(key+".backoff.initial", b.Initial)
	ck.positive(key+".backoff.max", b.Max)
	if b.Initial > 0 && b.Max > 0 && b.Initial > b.Max {
		ck.add(key+".backoff.initial", "%s is greater than backoff.max %s", b.Initial, b.Max)
	}
	if !(b.Multiplier >= 1) || math.IsInf(b.Multiplier, 0) {
		ck.add(key+".backoff.multiplier", "must be at least 1, got %v", b.Multiplier)
	}
	if !(b.Jitter >= 0 && b.Jitter <= 1) {
		ck.add(key+".backoff.jitter", "must be between 0 and 1, got %v", b.Jitter)
	}

	switch {
	case cs.DeadLetter != nil && !*cs.DeadLetter:
		if cs.DeadLetterTopic != "" {
			ck.add(key+".dead_letter_topic", "set while dead_letter is false")
		}
	case cs.Topic == "" && cs.DeadLetterTopic == "":
		// Nothing to derive it from: the missing topic is the problem,
		// or each topic a pattern matches has its own.
	default:
		ck.topic(key+".dead_letter_topic", cs.DeadLetterTopic)
		if cs.DeadLetterTopic == cs.Topic {
			ck.add(key+".dead_letter_topic", "%q is the consumed topic itself", cs.DeadLetterTopic)
		}
	}
	if cs.HandlerTimeout < 0 {
		ck.add(key+".handler_timeout", "must not be negative, got %s", cs.HandlerTimeout)
	}
	cs.Handler.check(ck, key+".handler", cs.Topic)
	cs.Circuit.check(ck, key+".circuit")
	cs.checkExecStream(ck, key)
	cs.checkParking(ck, key)
	cs.checkBatch(ck, key)
	cs.checkExactlyOnce(ck, key)
}

// Kinds names the handler kinds that are set, in the order exec, http,
// log, forward; a valid handler sets exactly one.
func (h Handler) Kinds() []string {
	var kinds []string
	if h.Exec != nil {
		kinds = append(kinds, "exec")
	}
	if h.HTTP != nil {
		kinds = append(kinds, "http")
	}
	if h.Log != nil {
		kinds = append(kinds, "log")
	}
	if h.Forward != nil {
		kinds = append(kinds, "forward")
	}
	return kinds
}

func (h Handler) check(ck *checker, key, topic string) {
	kinds := h.Kinds()
	switch len(kinds) {
	case 0:
		ck.add(key, "set exactly one of exec, http, log, forward")
	case 1:
	default:
		ck.add(key, "set exactly one of exec, http, log, forward, not %s", strings.Join(kinds, " and "))
	}
	if h.Exec != nil {
		h.Exec.check(ck, key+".exec")
	}
	if h.HTTP != nil {
		checkURL(ck, key+".http.url", h.HTTP.URL)
		if h.HTTP.Timeout <= 0 {
			ck.add(key+".http.timeout", "must be greater than 0, got %s", h.HTTP.Timeout)
		}
	}
	if h.Forward != nil {
		ck.topic(key+".forward.topic", h.Forward.Topic)
		if h.Forward.Topic != "" && h.Forward.Topic == topic {
			ck.add(key+".forward.topic", "%q is the consumed topic itself", topic)
		}
	}
}

// checkURL requires an absolute http or https URL. The URL is shown
// redacted: it may carry a password.
func checkURL(ck *checker, key, raw string) {
	if raw == "" {
		ck.add(key, "required")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		ck.add(key, "not a valid URL: %v", err)
		return
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ck.add(key, "%q is not an absolute http or https URL", u.Redacted())
	}
}

// maxBadBrokers is how many bad kafka.bootstrap_servers entries are
// reported one by one; the rest are counted.
const maxBadBrokers = 3

// maxQuoted is how much of a value a problem quotes: a runaway value (a
// 10,000-character --brokers) is cut to it, its length said.
const maxQuoted = 200

// clipQuoted quotes s as %q does, cut after its first maxQuoted
// characters with how many it has: "aaa…"... (10000 characters).
func clipQuoted(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := 0
	for range maxQuoted {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return fmt.Sprintf("%q... (%d characters)", s[:cut], n)
}
