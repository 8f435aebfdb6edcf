package schema

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// SubjectStrategy is how a producer names the registry subject of its
// schema, as Confluent's serializers do (subject.name.strategy).
type SubjectStrategy int

const (
	// TopicName is "<topic>-value" (or "<topic>-key"): one schema history
	// per topic, the Confluent default.
	TopicName SubjectStrategy = iota
	// RecordName is the record's full name ("shop.OrderCreated"): one
	// history per record type, whatever topics carry it.
	RecordName
	// TopicRecordName is "<topic>-<full name>": one history per record
	// type per topic, for topics that carry several record types.
	TopicRecordName
)

// String returns the strategy's name as ParseSubjectStrategy reads it:
// topic, record or topic_record.
func (st SubjectStrategy) String() string {
	switch st {
	case TopicName:
		return "topic"
	case RecordName:
		return "record"
	case TopicRecordName:
		return "topic_record"
	}
	return fmt.Sprintf("SubjectStrategy(%d)", int(st))
}

// ParseSubjectStrategy parses a strategy name: topic, record or
// topic_record (Confluent's TopicNameStrategy, RecordNameStrategy and
// TopicRecordNameStrategy are accepted too).
func ParseSubjectStrategy(s string) (SubjectStrategy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "topic", "topicnamestrategy":
		return TopicName, nil
	case "record", "recordnamestrategy":
		return RecordName, nil
	case "topic_record", "topicrecordnamestrategy":
		return TopicRecordName, nil
	}
	return 0, fmt.Errorf("subject strategy %q: want topic, record or topic_record", s)
}

// Subject returns the subject a schema written to topic is registered
// under: the record value's unless key is set. RecordName and
// TopicRecordName need a named schema (record, enum or fixed).
func (st SubjectStrategy) Subject(topic string, s *Schema, key bool) (string, error) {
	part := "-value"
	if key {
		part = "-key"
	}
	switch st {
	case TopicName:
		return topic + part, nil
	case RecordName, TopicRecordName:
		if s == nil || !s.root.named() {
			kind := "no schema"
			if s != nil {
				kind = "a " + s.Name() + " schema"
			}
			return "", fmt.Errorf("subject strategy %s needs a record, enum or fixed schema, got %s", st, kind)
		}
		if st == RecordName {
			return s.root.name, nil
		}
		return topic + "-" + s.root.name, nil
	}
	return "", fmt.Errorf("unknown subject strategy %d", int(st))
}

// SubjectNamer is implemented by registries that name subjects with a
// strategy of their own (RegistryClient). SubjectFor uses it.
type SubjectNamer interface {
	Subject(topic string, s *Schema, key bool) (string, error)
}

// SubjectFor returns the subject under which a producer of topic registers
// s with reg: reg's own strategy when it has one (SubjectNamer), TopicName
// otherwise.
func SubjectFor(reg Registry, topic string, s *Schema, key bool) (string, error) {
	if n, ok := reg.(SubjectNamer); ok {
		return n.Subject(topic, s, key)
	}
	return TopicName.Subject(topic, s, key)
}

// ProducerMode is how a producer gets the registry id it frames records
// with.
type ProducerMode int

const (
	// AutoRegister registers the producer's schema under its subject (a
	// schema registered before gets its id back). The registry refuses a
	// schema incompatible with the subject's. The default, for
	// development and for registries that allow it.
	AutoRegister ProducerMode = iota
	// UseLatest never registers: the subject's latest version must be the
	// producer's schema (same Parsing Canonical Form), whose id is used.
	// For production registries with auto-registration off, where schemas
	// are registered ahead of deploys ("actord schema register").
	UseLatest
	// UseID never registers: the schema with RegistryConfig.ID must be
	// the producer's schema, and that id is used.
	UseID
)

// String returns auto-register, latest or id.
func (m ProducerMode) String() string {
	switch m {
	case AutoRegister:
		return "auto-register"
	case UseLatest:
		return "latest"
	case UseID:
		return "id"
	}
	return fmt.Sprintf("ProducerMode(%d)", int(m))
}

// Defaults of RegistryConfig.
const (
	DefaultRegistryTimeout  = 10 * time.Second
	DefaultRegistryAttempts = 4
	DefaultRegistryBackoff  = 100 * time.Millisecond
	maxRegistryBackoff      = 2 * time.Second
)

// RegistryConfig says how to reach a Confluent-compatible Schema Registry
// and how producers use it. Its String and GoString hide the password.
type RegistryConfig struct {
	// URLs of the registry ("http://host:8081"); a URL without scheme
	// gets http://. The next is tried when one cannot be reached.
	URLs []string
	// Username and Password authenticate with HTTP basic auth when
	// Username is set.
	Username string
	Password string
	// CAFile is a PEM file of the CAs that sign an https:// registry's
	// certificate; empty uses the system's. TLS, when set, is used as
	// it is instead (CAFile must then be empty).
	CAFile string
	TLS    *tls.Config
	// Timeout bounds each HTTP request. Default DefaultRegistryTimeout.
	Timeout time.Duration
	// Attempts is how many times a request that failed for I/O (no
	// answer, a timeout, 5xx or 429) is sent in all before the error is
	// returned, with exponential backoff from Backoff (doubling, at most
	// 2s) between them, within the caller's context. Default
	// DefaultRegistryAttempts; 1 sends once.
	Attempts int
	Backoff  time.Duration
	// Strategy names producers' subjects. Default TopicName.
	Strategy SubjectStrategy
	// Mode is how producers get their id; ID is the id of UseID.
	// Default AutoRegister.
	Mode ProducerMode
	ID   int
}

// String describes the config without the password.
func (c RegistryConfig) String() string {
	auth := "no auth"
	if c.Username != "" {
		auth = "basic auth as " + strconv.Quote(c.Username) + " (password hidden)"
	}
	return fmt.Sprintf("schema registry %s, %s, subjects by %s, %s", strings.Join(c.URLs, ","), auth, c.Strategy, c.Mode)
}

// GoString is String, so %#v does not print the password either.
func (c RegistryConfig) GoString() string { return c.String() }

// RegistryClient is a Registry that speaks the Confluent Schema Registry
// REST API (franz-go's pkg/sr client). It caches what it learns: a
// producer registers or looks up each schema once per subject, and a
// consumer fetches each unknown id once, so after the first record of a
// schema no record costs a request.
//
// Its errors follow Registry: I/O failures, after Attempts tries, are a
// *RegistryError (retried by consumers, never dead-lettered); an unknown
// id wraps ErrUnknownSchema; a registration the registry refuses is a
// *RefusedError naming the subject and the registry's reason.
type RegistryClient struct {
	cfg RegistryConfig
	cl  *sr.Client

	mu       sync.Mutex
	byID     map[int]*Schema
	byFP     map[uint64]*Schema
	ids      map[subjectFP]int
	inflight map[int]*lookup
}

type subjectFP struct {
	subject string
	fp      uint64
}

// lookup is one fetch of an id in flight, which concurrent callers of the
// same id wait for instead of sending their own.
type lookup struct {
	done chan struct{}
	s    *Schema
	err  error
}

var (
	_ Registry     = (*RegistryClient)(nil)
	_ SubjectNamer = (*RegistryClient)(nil)
)

// NewRegistryClient checks cfg and returns a client; it does no I/O. A
// bad URL, an unreadable or empty CA file, or a mode without what it needs
// is an error naming the field.
func NewRegistryClient(cfg RegistryConfig) (*RegistryClient, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("schema registry: no URL")
	}
	urls := make([]string, len(cfg.URLs))
	for i, u := range cfg.URLs {
		u = strings.TrimSpace(u)
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			u = "http://" + u
		}
		u = strings.TrimRight(u, "/")
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			return nil, fmt.Errorf("schema registry: URL %q: want http://host:port or https://host:port", cfg.URLs[i])
		}
		if p.User != nil {
			return nil, fmt.Errorf("schema registry: URL %q: put credentials in the username and password settings, not the URL", p.Redacted())
		}
		urls[i] = u
	}
	cfg.URLs = urls
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultRegistryTimeout
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("schema registry: timeout %s: must be positive", cfg.Timeout)
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = DefaultRegistryAttempts
	}
	if cfg.Attempts < 0 {
		return nil, fmt.Errorf("schema registry: attempts %d: must be at least 1", cfg.Attempts)
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultRegistryBackoff
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("schema registry: a password without a username")
	}
	switch cfg.Mode {
	case AutoRegister, UseLatest:
	case UseID:
		if cfg.ID < 1 {
			return nil, fmt.Errorf("schema registry: mode id needs a schema id of at least 1, got %d", cfg.ID)
		}
	default:
		return nil, fmt.Errorf("schema registry: unknown producer mode %d", int(cfg.Mode))
	}
	if cfg.Strategy < TopicName || cfg.Strategy > TopicRecordName {
		return nil, fmt.Errorf("schema registry: unknown subject strategy %d", int(cfg.Strategy))
	}
	tlsCfg := cfg.TLS
	if cfg.CAFile != "" {
		if tlsCfg != nil {
			return nil, errors.New("schema registry: both a CA file and a TLS config")
		}
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("schema registry: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("schema registry: CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tlsCfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.ResponseHeaderTimeout = cfg.Timeout
	opts := []sr.ClientOpt{
		sr.URLs(urls...),
		sr.HTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: tr}),
		sr.UserAgent("actord"),
	}
	if cfg.Username != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return &RegistryClient{
		cfg:      cfg,
		cl:       cl,
		byID:     map[int]*Schema{},
		byFP:     map[uint64]*Schema{},
		ids:      map[subjectFP]int{},
		inflight: map[int]*lookup{},
	}, nil
}

// Config returns the client's config, defaults filled in.
func (c *RegistryClient) Config() RegistryConfig { return c.cfg }

// SR returns the underlying franz-go client, for the registry's other
// endpoints (subjects, versions, compatibility). Its calls are not retried.
func (c *RegistryClient) SR() *sr.Client { return c.cl }

// Subject implements SubjectNamer with the config's strategy.
func (c *RegistryClient) Subject(topic string, s *Schema, key bool) (string, error) {
	return c.cfg.Strategy.Subject(topic, s, key)
}

// Register implements Registry in the config's mode: AutoRegister
// registers s under subject; UseLatest and UseID check that the
// subject's latest version, or the schema with the configured id, is s,
// and never register. The id is cached per subject and schema.
func (c *RegistryClient) Register(ctx context.Context, subject string, s *Schema) (int, error) {
	if s == nil {
		return 0, errors.New("schema registry: register a nil schema")
	}
	if subject == "" {
		return 0, errors.New("schema registry: empty subject")
	}
	key := subjectFP{subject, s.fp}
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	var err error
	switch c.cfg.Mode {
	case UseLatest:
		id, err = c.latest(ctx, subject, s)
	case UseID:
		id, err = c.fixedID(ctx, subject, s)
	default:
		op := "register subject " + strconv.Quote(subject)
		err = c.retry(ctx, op, func(ctx context.Context) error {
			var err error
			id, err = c.cl.RegisterSchema(ctx, subject, sr.Schema{Schema: s.text, Type: sr.TypeAvro}, -1, -1)
			return err
		})
		err = c.refused(op, subject, err)
	}
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.ids[key] = id
	if _, ok := c.byID[id]; !ok {
		c.byID[id] = s
	}
	c.byFP[s.fp] = s
	c.mu.Unlock()
	return id, nil
}

func (c *RegistryClient) latest(ctx context.Context, subject string, s *Schema) (int, error) {
	op := "latest version of subject " + strconv.Quote(subject)
	var ss sr.SubjectSchema
	err := c.retry(ctx, op, func(ctx context.Context) error {
		var err error
		ss, err = c.cl.SchemaByVersion(ctx, subject, -1)
		return err
	})
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			return 0, &RefusedError{Subject: subject, Status: re.StatusCode, Code: re.ErrorCode,
				Message: "subject has no registered version and auto-register is off: register the schema first (actord schema register)"}
		}
		return 0, c.refused(op, subject, err)
	}
	return c.same(subject, fmt.Sprintf("latest version %d", ss.Version), ss.ID, ss.Schema, s)
}

func (c *RegistryClient) fixedID(ctx context.Context, subject string, s *Schema) (int, error) {
	reg, err := c.ByID(ctx, c.cfg.ID)
	if err != nil {
		return 0, err
	}
	return c.same(subject, "schema", c.cfg.ID, sr.Schema{Schema: reg.text}, s)
}

// same checks that the registry's schema (what, id) encodes as s does.
func (c *RegistryClient) same(subject, what string, id int, got sr.Schema, s *Schema) (int, error) {
	if got.Type != 0 && got.Type != sr.TypeAvro {
		return 0, &RefusedError{Subject: subject, Message: fmt.Sprintf("%s (id %d) is a %s schema, not Avro", what, id, got.Type)}
	}
	reg, err := Parse(got.Schema)
	if err != nil {
		return 0, &RefusedError{Subject: subject, Message: fmt.Sprintf("%s (id %d) does not parse: %v", what, id, err)}
	}
	if reg.fp != s.fp {
		return 0, &RefusedError{Subject: subject, Message: fmt.Sprintf(
			"%s (id %d) is not the producer's schema %s (another Parsing Canonical Form) and auto-register is off: register it first", what, id, s.Name())}
	}
	return id, nil
}

// ByID implements Registry: the schema with id, fetched once and cached.
// Concurrent lookups of one id share one request.
func (c *RegistryClient) ByID(ctx context.Context, id int) (*Schema, error) {
	c.mu.Lock()
	if s, ok := c.byID[id]; ok {
		c.mu.Unlock()
		return s, nil
	}
	if l, ok := c.inflight[id]; ok {
		c.mu.Unlock()
		select {
		case <-l.done:
			return l.s, l.err
		case <-ctx.Done():
			return nil, &RegistryError{Op: "lookup id " + strconv.Itoa(id), Err: ctx.Err()}
		}
	}
	l := &lookup{done: make(chan struct{})}
	c.inflight[id] = l
	c.mu.Unlock()

	l.s, l.err = c.fetch(ctx, id)

	c.mu.Lock()
	delete(c.inflight, id)
	if l.err == nil {
		if s, ok := c.byFP[l.s.fp]; ok {
			l.s = s // one *Schema per encoding, so resolutions are shared
		} else {
			c.byFP[l.s.fp] = l.s
		}
		c.byID[id] = l.s
	}
	c.mu.Unlock()
	close(l.done)
	return l.s, l.err
}

func (c *RegistryClient) fetch(ctx context.Context, id int) (*Schema, error) {
	op := "lookup id " + strconv.Itoa(id)
	var got sr.Schema
	err := c.retry(ctx, op, func(ctx context.Context) error {
		var err error
		got, err = c.cl.SchemaByID(ctx, id)
		return err
	})
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%w: no schema with registry id %d at %s", ErrUnknownSchema, id, c.cfg.URLs[0])
		}
		if errors.As(err, new(*RegistryError)) {
			return nil, err
		}
		// Refused for another reason (401, 403, 400): not a definite "no
		// such id", so a consumer retries it (see LookupError).
		return nil, &RegistryError{Op: op, Err: describe(err)}
	}
	if got.Type != 0 && got.Type != sr.TypeAvro {
		return nil, fmt.Errorf("%w: registry id %d is a %s schema, not Avro", ErrUnknownSchema, id, got.Type)
	}
	if len(got.References) > 0 {
		return nil, fmt.Errorf("%w: registry id %d has schema references, which actord does not resolve", ErrUnknownSchema, id)
	}
	s, err := Parse(got.Schema)
	if err != nil {
		return nil, fmt.Errorf("%w: registry id %d: %v", ErrUnknownSchema, id, err)
	}
	return s, nil
}

// ByFingerprint implements Registry: a schema this client has registered
// or fetched.
func (c *RegistryClient) ByFingerprint(fp uint64) (*Schema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byFP[fp]
	return s, ok
}

// Do sends one request through the client's retries: fn is called with a
// context bounded by the config's Timeout, again after a backoff while it
// fails for I/O, at most Attempts times. Errors are described as refused
// would be (see RegistryClient's doc), op naming the call.
func (c *RegistryClient) Do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return c.retry(ctx, op, fn)
}

// retry calls fn until it succeeds, fails for a reason other than I/O, or
// Attempts calls have failed, backing off between them. I/O failures come
// back as a *RegistryError; other errors as fn returned them.
func (c *RegistryClient) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	backoff := c.cfg.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		err = fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		if !ioFailure(err) {
			return err
		}
		if ctx.Err() != nil {
			return &RegistryError{Op: op, Err: fmt.Errorf("%w (last: %v)", ctx.Err(), describe(err))}
		}
		if attempt >= c.cfg.Attempts {
			noun := "attempts"
			if attempt == 1 {
				noun = "attempt"
			}
			return &RegistryError{Op: op, Err: fmt.Errorf("%w (%d %s)", describe(err), attempt, noun)}
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &RegistryError{Op: op, Err: fmt.Errorf("%w (last: %v)", ctx.Err(), describe(err))}
		}
		backoff = min(2*backoff, maxRegistryBackoff)
	}
}

// ioFailure reports whether err is the registry failing to answer: no
// connection, a timeout, a 5xx or 429 answer.
func ioFailure(err error) bool {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}

// describe turns an sr.ResponseError into one line with the status, the
// URL and the registry's message, and says what a 401 or 403 means.
func describe(err error) error {
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	msg := strings.TrimSpace(re.Message)
	if msg == "" {
		msg = strings.TrimSpace(string(re.Raw))
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	status := strconv.Itoa(re.StatusCode) + " " + http.StatusText(re.StatusCode)
	switch re.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("%s %s: authentication failed (%s): check the registry username and password", re.Method, re.URL, status)
	case http.StatusForbidden:
		return fmt.Errorf("%s %s: authentication failed or not permitted (%s): check the registry username, password and the user's permissions", re.Method, re.URL, status)
	}
	if msg != "" {
		return fmt.Errorf("%s %s: %s: %s", re.Method, re.URL, status, msg)
	}
	return fmt.Errorf("%s %s: %s", re.Method, re.URL, status)
}

// Explain is how the client reports err, an error of a call op made
// about subject through SR or Do: a refusal (4xx) is a *RefusedError, a
// 401 or 403 one line that says so, I/O a *RegistryError.
func (c *RegistryClient) Explain(op, subject string, err error) error {
	return c.refused(op, subject, err)
}

// refused turns a registry's refusal of a registration or lookup into a
// *RefusedError, a 401 or 403 into a plain error that says so, and leaves
// *RegistryError (I/O) as it is.
func (c *RegistryClient) refused(op, subject string, err error) error {
	if err == nil {
		return nil
	}
	if errors.As(err, new(*RegistryError)) {
		return err
	}
	var re *sr.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden {
			return fmt.Errorf("schema registry: %s: %w", op, describe(err))
		}
		msg := strings.TrimSpace(re.Message)
		if msg == "" {
			msg = strings.TrimSpace(string(re.Raw))
		}
		return &RefusedError{Subject: subject, Status: re.StatusCode, Code: re.ErrorCode, Message: msg}
	}
	return fmt.Errorf("schema registry: %s: %w", op, err)
}

// RefusedError is a registry's definite refusal of a producer's schema: a
// registration refused as incompatible with the subject's (409) or
// invalid (422), or, with auto-register off, a subject whose registered
// schema is not the producer's. The same schema is refused again, so it
// is permanent.
type RefusedError struct {
	// Subject is the subject the schema was for.
	Subject string
	// Status and Code are the HTTP status and the registry's error_code;
	// 0 when the refusal is the client's own check.
	Status, Code int
	// Message is the registry's reason, which names the field for an
	// incompatible schema.
	Message string
}

// Error returns "schema registry refused subject "S" (409): REASON".
func (e *RefusedError) Error() string {
	st := ""
	if e.Status != 0 {
		st = " (" + strconv.Itoa(e.Status) + ")"
	}
	return "schema registry refused subject " + strconv.Quote(e.Subject) + st + ": " + e.Message
}

// Await calls try until it returns nil or an error that is not Transient
// (see Transient), waiting between calls with backoff from 100ms doubling
// to 5s, or until ctx ends; then it returns try's last error. waiting, when
// not nil, is called once, with the first transient error: a registry that
// cannot answer makes a consumer wait for it rather than fail the record.
func Await(ctx context.Context, try func(ctx context.Context) error, waiting func(error)) error {
	wait := 100 * time.Millisecond
	for first := true; ; first = false {
		err := try(ctx)
		if err == nil || !Transient(err) || ctx.Err() != nil {
			return err
		}
		if first && waiting != nil {
			waiting(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(2*wait, 5*time.Second)
	}
}
