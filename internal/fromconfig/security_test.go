package fromconfig_test

// These tests run the embedded broker's security (SASL, TLS, mutual TLS)
// end to end through the one way actord configures it: the broker.* keys
// through BrokerSecurity, clients from the kafka.* keys through ClientOpts.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/fromconfig"
	"github.com/actord/actord/internal/kafkatest"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, cfg broker.Config) *broker.Broker {
	t.Helper()
	b, err := broker.Start(cfg)
	if err != nil {
		t.Fatalf("Start(%+v): %v", cfg, err)
	}
	t.Cleanup(b.Close)
	return b
}

// secureBroker starts a broker from the broker.* keys of bc.
func secureBroker(t *testing.T, bc config.Broker, dataDir string) *broker.Broker {
	t.Helper()
	sec, err := fromconfig.BrokerSecurity(bc)
	if err != nil {
		t.Fatalf("BrokerSecurity: %v", err)
	}
	return start(t, broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DataDir: dataDir, Security: sec})
}

// kafkaConfig is the kafka section of a client of addr, with the defaults.
func kafkaConfig(addr string) config.Kafka {
	k := config.Default().Kafka
	k.BootstrapServers = addr
	k.ClientID = "security-test"
	return k
}

// connCounter counts the client's connection attempts.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) OnBrokerConnect(kgo.BrokerMetadata, time.Duration, net.Conn, error) {
	c.n.Add(1)
}

// kafkaClient builds a client the one way actord does: ClientOpts of the
// kafka section, then the caller's options.
func kafkaClient(t *testing.T, k config.Kafka, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base, err := fromconfig.ClientOpts(k)
	if err != nil {
		t.Fatalf("ClientOpts: %v", err)
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// roundTrip produces three records to topic and consumes them back.
func roundTrip(t *testing.T, ctx context.Context, k config.Kafka, topic string) {
	t.Helper()
	prod := kafkaClient(t, k, kgo.AllowAutoTopicCreation())
	for _, v := range []string{"a", "b", "c"} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %q: %v", v, err)
		}
	}
	cons := kafkaClient(t, k, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 3 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: got %q before the deadline", topic, got)
		}
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
		}
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("consumed %q, want a,b,c", got)
	}
}

var mechanisms = []string{config.MechanismPlain, config.MechanismScramSHA256, config.MechanismScramSHA512}

func TestSASLProduceConsume(t *testing.T) {
	for _, mech := range mechanisms {
		t.Run(mech, func(t *testing.T) {
			ctx := testCtx(t)
			pass := "right-" + mech
			b := secureBroker(t, config.Broker{SASL: config.SASL{Mechanism: mech, User: "admin", Password: pass}}, "")
			k := kafkaConfig(b.Addr())
			k.SASL = config.SASL{Mechanism: mech, User: "admin", Password: pass}
			roundTrip(t, ctx, k, "orders")
			// A request far larger than what the broker inspects of
			// each one, split over many reads.
			big := strings.Repeat("x", 256<<10)
			cl := kafkaClient(t, k, kgo.AllowAutoTopicCreation(), kgo.ProducerBatchMaxBytes(1<<20))
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: []byte(big)}).FirstErr(); err != nil {
				t.Fatalf("produce 256 KiB: %v", err)
			}
			if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
				t.Fatalf("list topics after a large produce: %v", err)
			}
		})
	}
}

// TestSASLPasswordFile reads both passwords from files, with the newline
// an editor leaves.
func TestSASLPasswordFile(t *testing.T) {
	ctx := testCtx(t)
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sasl := config.SASL{Mechanism: config.MechanismScramSHA512, User: "svc", PasswordFile: file}
	b := secureBroker(t, config.Broker{SASL: sasl}, "")
	k := kafkaConfig(b.Addr())
	k.SASL = sasl
	roundTrip(t, ctx, k, "orders")
}

// TestSASLRefusedFailsFast: a client the broker refuses gets
// SASL_AUTHENTICATION_FAILED from a handful of connections, not a retry
// storm; the error says who and how, and never holds a password.
//
// franz-go fails a request on the first refusal: an admin call or a Ping
// (which actord's commands and runtime issue first) fails at once. A
// producer keeps its records for a later metadata refresh, so it fails at
// its delivery timeout, with the refusal as the last error.
func TestSASLRefusedFailsFast(t *testing.T) {
	const right = "the-right-password"
	type op struct {
		name string
		fast bool // fails before the request timeout
		run  func(context.Context, *kgo.Client) error
	}
	ping := op{"ping", true, func(ctx context.Context, cl *kgo.Client) error { return cl.Ping(ctx) }}
	listTopics := op{"list topics", true, func(ctx context.Context, cl *kgo.Client) error {
		_, err := kadm.NewClient(cl).ListTopics(ctx)
		return err
	}}
	produce := op{"produce", false, func(ctx context.Context, cl *kgo.Client) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	}}
	type tc struct {
		name       string
		broker     string // the broker's mechanism
		client     config.SASL
		wantReason string
		ops        []op
	}
	var cases []tc
	for _, mech := range mechanisms {
		cases = append(cases,
			tc{"wrong password " + mech, mech, config.SASL{Mechanism: mech, User: "admin", Password: "a-wrong-password"},
				fmt.Sprintf(`invalid credentials for user "admin" with SASL mechanism %s`, mech),
				[]op{ping, listTopics, produce}},
			tc{"unknown user " + mech, mech, config.SASL{Mechanism: mech, User: "mallory", Password: right},
				fmt.Sprintf(`invalid credentials for user "mallory" with SASL mechanism %s`, mech),
				[]op{ping}},
		)
	}
	cases = append(cases, tc{"mechanism not enabled", config.MechanismScramSHA256,
		config.SASL{Mechanism: config.MechanismScramSHA512, User: "admin", Password: right},
		"SASL mechanism SCRAM-SHA-512 is not enabled; this broker accepts SCRAM-SHA-256",
		[]op{ping}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := secureBroker(t, config.Broker{SASL: config.SASL{Mechanism: c.broker, User: "admin", Password: right}}, "")
			k := kafkaConfig(b.Addr())
			k.SASL = c.client
			k.RequestTimeout = 3 * time.Second
			for _, op := range c.ops {
				var conns connCounter
				// As the runtime's producer: records time out with
				// the request timeout.
				cl := kafkaClient(t, k, kgo.WithHooks(&conns), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(k.RequestTimeout))
				ctx, cancel := context.WithTimeout(context.Background(), k.RequestTimeout+5*time.Second)
				began := time.Now()
				err := op.run(ctx, cl)
				took := time.Since(began)
				cancel()
				t.Logf("%s: %v after %v and %d connection(s)", op.name, err, took.Round(time.Millisecond), conns.n.Load())
				if !errors.Is(err, kerr.SaslAuthenticationFailed) {
					t.Fatalf("%s: error %v, want SASL_AUTHENTICATION_FAILED", op.name, err)
				}
				limit := k.RequestTimeout + 2*time.Second
				if op.fast {
					limit = k.RequestTimeout / 2
				}
				if took > limit {
					t.Errorf("%s: failed after %v, want under %v", op.name, took, limit)
				}
				if n := conns.n.Load(); n > 4 {
					t.Errorf("%s: %d connection attempts, want at most 4 (no retry storm)", op.name, n)
				}
				if !strings.Contains(err.Error(), c.wantReason) {
					t.Errorf("%s: error %q does not say %q", op.name, err, c.wantReason)
				}
				for _, secret := range []string{right, c.client.Password} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: error %q holds a password", op.name, err)
					}
				}
			}
		})
	}
}

// TestSASLMissing: a client without SASL is cut off at its first request
// and fails without retrying, as franz-go does against Kafka.
func TestSASLMissing(t *testing.T) {
	b := secureBroker(t, config.Broker{SASL: config.SASL{Mechanism: config.MechanismPlain, User: "admin", Password: "pw"}}, "")
	k := kafkaConfig(b.Addr())
	cl := kafkaClient(t, k)
	ctx, cancel := context.WithTimeout(context.Background(), k.RequestTimeout)
	defer cancel()
	began := time.Now()
	_, err := kadm.NewClient(cl).ListTopics(ctx)
	var eof *kgo.ErrFirstReadEOF
	if !errors.As(err, &eof) {
		t.Fatalf("list topics without SASL: %v, want the client's 'is SASL missing?' error", err)
	}
	if took := time.Since(began); took > k.RequestTimeout/2 {
		t.Errorf("failed after %v, want well under the request timeout", took)
	}
}

func TestTLS(t *testing.T) {
	p := kafkatest.NewPKI(t)
	b := secureBroker(t, config.Broker{TLS: config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile}}, "")
	ok := []struct {
		name string
		tls  config.TLS
	}{
		{"CA file, dialed IP", config.TLS{Enabled: true, CAFile: p.CAFile}},
		{"CA file, server name", config.TLS{Enabled: true, CAFile: p.CAFile, ServerName: "broker.test"}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			k := kafkaConfig(b.Addr())
			k.TLS = c.tls
			roundTrip(t, testCtx(t), k, strings.ReplaceAll(c.name, " ", "-"))
		})
	}
	refused := []struct {
		name string
		tls  config.TLS
		want string
	}{
		{"other CA", config.TLS{Enabled: true, CAFile: p.OtherCAFile}, "certificate signed by unknown authority"},
		{"wrong server name", config.TLS{Enabled: true, CAFile: p.CAFile, ServerName: "elsewhere.test"}, "elsewhere.test"},
		{"plaintext", config.TLS{}, ""},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			k := kafkaConfig(b.Addr())
			k.TLS = c.tls
			k.RequestTimeout = 3 * time.Second
			cl := kafkaClient(t, k)
			ctx, cancel := context.WithTimeout(context.Background(), k.RequestTimeout)
			defer cancel()
			began := time.Now()
			_, err := kadm.NewClient(cl).ListTopics(ctx)
			if err == nil {
				t.Fatal("list topics succeeded, want a TLS failure")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to say %q", err, c.want)
			}
			if took := time.Since(began); took > k.RequestTimeout+2*time.Second {
				t.Errorf("failed after %v", took)
			}
		})
	}
}

func TestMutualTLS(t *testing.T) {
	p := kafkatest.NewPKI(t)
	b := secureBroker(t, config.Broker{TLS: config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: p.CAFile}}, "")
	t.Run("client certificate", func(t *testing.T) {
		k := kafkaConfig(b.Addr())
		k.TLS = config.TLS{Enabled: true, CAFile: p.CAFile, ServerName: "broker.test", CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile}
		roundTrip(t, testCtx(t), k, "orders")
	})
	t.Run("no client certificate", func(t *testing.T) {
		k := kafkaConfig(b.Addr())
		k.TLS = config.TLS{Enabled: true, CAFile: p.CAFile}
		k.RequestTimeout = 3 * time.Second
		cl := kafkaClient(t, k)
		ctx, cancel := context.WithTimeout(context.Background(), k.RequestTimeout)
		defer cancel()
		if _, err := kadm.NewClient(cl).ListTopics(ctx); err == nil {
			t.Fatal("list topics without a client certificate succeeded")
		}
	})
}

// TestSASLOverMutualTLS combines both, as a production listener would.
func TestSASLOverMutualTLS(t *testing.T) {
	p := kafkatest.NewPKI(t)
	sasl := config.SASL{Mechanism: config.MechanismScramSHA256, User: "admin", Password: "pw-over-tls"}
	b := secureBroker(t, config.Broker{SASL: sasl, TLS: config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: p.CAFile}}, "")
	k := kafkaConfig(b.Addr())
	k.SASL = sasl
	k.TLS = config.TLS{Enabled: true, CAFile: p.CAFile, ServerName: "broker.test", CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile}
	roundTrip(t, testCtx(t), k, "orders")

	k.SASL.Password = "not-it"
	cl := kafkaClient(t, k)
	ctx, cancel := context.WithTimeout(context.Background(), k.RequestTimeout)
	defer cancel()
	if _, err := kadm.NewClient(cl).ListTopics(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong password over TLS: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
}

// TestDataDirKeepsNoCredentials: the configured user is the only one on
// every start, and no password is left in the data dir.
func TestDataDirKeepsNoCredentials(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	first := config.SASL{Mechanism: config.MechanismPlain, User: "admin", Password: "first-password"}
	b := secureBroker(t, config.Broker{SASL: first}, dir)
	k := kafkaConfig(b.Addr())
	k.SASL = first
	roundTrip(t, ctx, k, "orders")
	b.Close()

	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), first.Password) {
			t.Errorf("%s holds the password", path)
		}
		return nil
	})

	second := first
	second.Password = "second-password"
	b = secureBroker(t, config.Broker{SASL: second}, dir)
	k.BootstrapServers = b.Addr()
	cl := kafkaClient(t, k)
	if _, err := kadm.NewClient(cl).ListTopics(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("old password after restart: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	k.SASL = second
	cl = kafkaClient(t, k, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil || len(fs.Records()) == 0 {
		t.Fatalf("new password after restart: %d records, %v; want the records kept in the data dir", len(fs.Records()), err)
	}
}

func TestBrokerSecurity(t *testing.T) {
	p := kafkatest.NewPKI(t)
	const secret = "hunter2-secret"
	missing := filepath.Join(t.TempDir(), "missing")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errCases := []struct {
		name string
		in   config.Broker
		want string
	}{
		{"unknown mechanism", config.Broker{SASL: config.SASL{Mechanism: "GSSAPI", User: "u", Password: secret}}, `broker.sasl.mechanism: "GSSAPI" is not one of`},
		{"no user", config.Broker{SASL: config.SASL{Mechanism: "PLAIN", Password: secret}}, "broker.sasl.user: required"},
		{"no password", config.Broker{SASL: config.SASL{Mechanism: "PLAIN", User: "u"}}, "broker.sasl.password: required"},
		{"missing password file", config.Broker{SASL: config.SASL{Mechanism: "PLAIN", User: "u", Password: secret, PasswordFile: missing}}, "broker.sasl.password_file: open " + missing},
		{"empty password file", config.Broker{SASL: config.SASL{Mechanism: "PLAIN", User: "u", PasswordFile: empty}}, "broker.sasl.password_file: " + empty + " is empty"},
		{"key without cert", config.Broker{TLS: config.BrokerTLS{KeyFile: p.KeyFile}}, "broker.tls: cert_file and key_file go together"},
		{"key of another cert", config.Broker{TLS: config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.ClientKeyFile}}, "broker.tls: cert_file " + p.CertFile + " with key_file " + p.ClientKeyFile},
		{"missing client CA", config.Broker{TLS: config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: missing}}, "broker.tls.client_ca_file: open " + missing},
		{"client CA not PEM", config.Broker{TLS: config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: empty}}, "broker.tls.client_ca_file: " + empty + " holds no PEM certificate"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := fromconfig.BrokerSecurity(c.in)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("BrokerSecurity: %v, want %q...", err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q holds the password", err)
			}
		})
	}

	sec, err := fromconfig.BrokerSecurity(config.Broker{
		SASL: config.SASL{Mechanism: "SCRAM-SHA-256", User: "admin", Password: secret},
		TLS:  config.BrokerTLS{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: p.CAFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = "SASL SCRAM-SHA-256 (user admin), TLS with client certificates"
	if got := sec.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{sec, broker.Config{Security: sec}} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, secret) {
				t.Errorf("Sprintf(%s) shows the password: %s", verb, s)
			}
		}
	}
	if got := (broker.Security{}).String(); got != "nothing" {
		t.Errorf("zero Security String() = %q", got)
	}
	if _, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", Security: broker.Security{SASLMechanism: "PLAIN", User: "u"}}); err == nil {
		t.Error("Start with SASL and no password succeeded")
	}
}
