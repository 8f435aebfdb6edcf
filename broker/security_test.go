package broker_test

// These tests run the embedded broker's security (SASL, TLS, mutual TLS)
// end to end with broker.Security built directly and clients built from
// franz-go options directly. How the daemon's configuration turns into
// both (fromconfig.BrokerSecurity, fromconfig.ClientOpts) is tested in
// internal/fromconfig.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/actord/actord/broker"
	"github.com/actord/actord/internal/kafkatest"
)

// secureBroker starts a broker with sec on a free loopback port, topic
// auto-creation on, keeping its state in dataDir when set.
func secureBroker(t *testing.T, sec broker.Security, dataDir string) *broker.Broker {
	t.Helper()
	return start(t, broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DataDir: dataDir, Security: sec})
}

// saslUser is the broker's one SASL user.
func saslUser(mech, user, pass string) broker.Security {
	return broker.Security{SASLMechanism: mech, User: user, Password: pass}
}

// serverTLS is the broker's TLS configuration: the PKI's server
// certificate, and with clientCA client certificates signed by the PKI's
// CA required.
func serverTLS(t *testing.T, p kafkatest.PKI, clientCA bool) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCA {
		cfg.ClientCAs = pool(t, p.CAFile)
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no PEM certificate", caFile)
	}
	return p
}

// clientTLS trusts caFile only, verifies serverName (else the dialed
// host) and presents certFile/keyFile when given.
func clientTLS(t *testing.T, caFile, serverName, certFile, keyFile string) *tls.Config {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, RootCAs: pool(t, caFile)}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// mechanism is the client side of SASL mech for user and pass.
func mechanism(t *testing.T, mech, user, pass string) sasl.Mechanism {
	t.Helper()
	switch mech {
	case broker.SASLPlain:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case broker.SASLScramSHA256:
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case broker.SASLScramSHA512:
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
	t.Fatalf("no client mechanism %q", mech)
	return nil
}

// conn is how a test client connects: seed broker, request timeout, SASL
// and TLS, as a client of a secured cluster sets them.
type conn struct {
	addr           string
	requestTimeout time.Duration
	sasl           sasl.Mechanism
	tls            *tls.Config
}

// connTo is a plain connection to addr with a 10s request timeout.
func connTo(addr string) conn { return conn{addr: addr, requestTimeout: 10 * time.Second} }

func (c conn) opts() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.addr),
		kgo.ClientID("security-test"),
		kgo.RetryTimeout(c.requestTimeout),
		kgo.MetadataMinAge(500 * time.Millisecond),
		kgo.DialTimeout(5 * time.Second),
	}
	if c.sasl != nil {
		opts = append(opts, kgo.SASL(c.sasl))
	}
	if c.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(c.tls))
	}
	return opts
}

// connCounter counts the client's connection attempts.
type connCounter struct{ n atomic.Int64 }

func (c *connCounter) OnBrokerConnect(kgo.BrokerMetadata, time.Duration, net.Conn, error) {
	c.n.Add(1)
}

// secureClient builds a client of c with the caller's options after, closed at
// cleanup.
func secureClient(t *testing.T, c conn, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(c.opts(), opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// roundTrip produces three records to topic and consumes them back.
func roundTrip(t *testing.T, ctx context.Context, c conn, topic string) {
	t.Helper()
	prod := secureClient(t, c, kgo.AllowAutoTopicCreation())
	for _, v := range []string{"a", "b", "c"} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %q: %v", v, err)
		}
	}
	cons := secureClient(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
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

var mechanisms = []string{broker.SASLPlain, broker.SASLScramSHA256, broker.SASLScramSHA512}

func TestSASLProduceConsume(t *testing.T) {
	for _, mech := range mechanisms {
		t.Run(mech, func(t *testing.T) {
			ctx := testCtx(t)
			pass := "right-" + mech
			b := secureBroker(t, saslUser(mech, "admin", pass), "")
			c := connTo(b.Addr())
			c.sasl = mechanism(t, mech, "admin", pass)
			roundTrip(t, ctx, c, "orders")
			// A request far larger than what the broker inspects of
			// each one, split over many reads.
			big := strings.Repeat("x", 256<<10)
			cl := secureClient(t, c, kgo.AllowAutoTopicCreation(), kgo.ProducerBatchMaxBytes(1<<20))
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "big", Value: []byte(big)}).FirstErr(); err != nil {
				t.Fatalf("produce 256 KiB: %v", err)
			}
			if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
				t.Fatalf("list topics after a large produce: %v", err)
			}
		})
	}
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
	type user struct{ mech, name, pass string }
	type tc struct {
		name       string
		broker     string // the broker's mechanism
		client     user
		wantReason string
		ops        []op
	}
	var cases []tc
	for _, mech := range mechanisms {
		cases = append(cases,
			tc{"wrong password " + mech, mech, user{mech, "admin", "a-wrong-password"},
				fmt.Sprintf(`invalid credentials for user "admin" with SASL mechanism %s`, mech),
				[]op{ping, listTopics, produce}},
			tc{"unknown user " + mech, mech, user{mech, "mallory", right},
				fmt.Sprintf(`invalid credentials for user "mallory" with SASL mechanism %s`, mech),
				[]op{ping}},
		)
	}
	cases = append(cases, tc{"mechanism not enabled", broker.SASLScramSHA256,
		user{broker.SASLScramSHA512, "admin", right},
		"SASL mechanism SCRAM-SHA-512 is not enabled; this broker accepts SCRAM-SHA-256",
		[]op{ping}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := secureBroker(t, saslUser(c.broker, "admin", right), "")
			cn := connTo(b.Addr())
			cn.sasl = mechanism(t, c.client.mech, c.client.name, c.client.pass)
			cn.requestTimeout = 3 * time.Second
			for _, op := range c.ops {
				var conns connCounter
				// As the runtime's producer: records time out with
				// the request timeout.
				cl := secureClient(t, cn, kgo.WithHooks(&conns), kgo.AllowAutoTopicCreation(), kgo.RecordDeliveryTimeout(cn.requestTimeout))
				ctx, cancel := context.WithTimeout(context.Background(), cn.requestTimeout+5*time.Second)
				began := time.Now()
				err := op.run(ctx, cl)
				took := time.Since(began)
				cancel()
				t.Logf("%s: %v after %v and %d connection(s)", op.name, err, took.Round(time.Millisecond), conns.n.Load())
				if !errors.Is(err, kerr.SaslAuthenticationFailed) {
					t.Fatalf("%s: error %v, want SASL_AUTHENTICATION_FAILED", op.name, err)
				}
				limit := cn.requestTimeout + 2*time.Second
				if op.fast {
					limit = cn.requestTimeout / 2
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
				for _, secret := range []string{right, c.client.pass} {
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
	b := secureBroker(t, saslUser(broker.SASLPlain, "admin", "pw"), "")
	c := connTo(b.Addr())
	cl := secureClient(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), c.requestTimeout)
	defer cancel()
	began := time.Now()
	_, err := kadm.NewClient(cl).ListTopics(ctx)
	var eof *kgo.ErrFirstReadEOF
	if !errors.As(err, &eof) {
		t.Fatalf("list topics without SASL: %v, want the client's 'is SASL missing?' error", err)
	}
	if took := time.Since(began); took > c.requestTimeout/2 {
		t.Errorf("failed after %v, want well under the request timeout", took)
	}
}

func TestTLS(t *testing.T) {
	p := kafkatest.NewPKI(t)
	b := secureBroker(t, broker.Security{TLS: serverTLS(t, p, false)}, "")
	ok := []struct {
		name string
		tls  *tls.Config
	}{
		{"CA file, dialed IP", clientTLS(t, p.CAFile, "", "", "")},
		{"CA file, server name", clientTLS(t, p.CAFile, "broker.test", "", "")},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			cn := connTo(b.Addr())
			cn.tls = c.tls
			roundTrip(t, testCtx(t), cn, strings.ReplaceAll(c.name, " ", "-"))
		})
	}
	refused := []struct {
		name string
		tls  *tls.Config
		want string
	}{
		{"other CA", clientTLS(t, p.OtherCAFile, "", "", ""), "certificate signed by unknown authority"},
		{"wrong server name", clientTLS(t, p.CAFile, "elsewhere.test", "", ""), "elsewhere.test"},
		{"plaintext", nil, ""},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			cn := connTo(b.Addr())
			cn.tls = c.tls
			cn.requestTimeout = 3 * time.Second
			cl := secureClient(t, cn)
			ctx, cancel := context.WithTimeout(context.Background(), cn.requestTimeout)
			defer cancel()
			began := time.Now()
			_, err := kadm.NewClient(cl).ListTopics(ctx)
			if err == nil {
				t.Fatal("list topics succeeded, want a TLS failure")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to say %q", err, c.want)
			}
			if took := time.Since(began); took > cn.requestTimeout+2*time.Second {
				t.Errorf("failed after %v", took)
			}
		})
	}
}

func TestMutualTLS(t *testing.T) {
	p := kafkatest.NewPKI(t)
	b := secureBroker(t, broker.Security{TLS: serverTLS(t, p, true)}, "")
	t.Run("client certificate", func(t *testing.T) {
		c := connTo(b.Addr())
		c.tls = clientTLS(t, p.CAFile, "broker.test", p.ClientCertFile, p.ClientKeyFile)
		roundTrip(t, testCtx(t), c, "orders")
	})
	t.Run("no client certificate", func(t *testing.T) {
		c := connTo(b.Addr())
		c.tls = clientTLS(t, p.CAFile, "", "", "")
		c.requestTimeout = 3 * time.Second
		cl := secureClient(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), c.requestTimeout)
		defer cancel()
		if _, err := kadm.NewClient(cl).ListTopics(ctx); err == nil {
			t.Fatal("list topics without a client certificate succeeded")
		}
	})
}

// TestSASLOverMutualTLS combines both, as a production listener would.
func TestSASLOverMutualTLS(t *testing.T) {
	p := kafkatest.NewPKI(t)
	sec := saslUser(broker.SASLScramSHA256, "admin", "pw-over-tls")
	sec.TLS = serverTLS(t, p, true)
	b := secureBroker(t, sec, "")
	c := connTo(b.Addr())
	c.sasl = mechanism(t, broker.SASLScramSHA256, "admin", "pw-over-tls")
	c.tls = clientTLS(t, p.CAFile, "broker.test", p.ClientCertFile, p.ClientKeyFile)
	roundTrip(t, testCtx(t), c, "orders")

	c.sasl = mechanism(t, broker.SASLScramSHA256, "admin", "not-it")
	cl := secureClient(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), c.requestTimeout)
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
	const firstPass, secondPass = "first-password", "second-password"
	b := secureBroker(t, saslUser(broker.SASLPlain, "admin", firstPass), dir)
	c := connTo(b.Addr())
	c.sasl = mechanism(t, broker.SASLPlain, "admin", firstPass)
	roundTrip(t, ctx, c, "orders")
	b.Close()

	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), firstPass) {
			t.Errorf("%s holds the password", path)
		}
		return nil
	})

	b = secureBroker(t, saslUser(broker.SASLPlain, "admin", secondPass), dir)
	c.addr = b.Addr()
	cl := secureClient(t, c)
	if _, err := kadm.NewClient(cl).ListTopics(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("old password after restart: %v, want SASL_AUTHENTICATION_FAILED", err)
	}
	c.sasl = mechanism(t, broker.SASLPlain, "admin", secondPass)
	cl = secureClient(t, c, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil || len(fs.Records()) == 0 {
		t.Fatalf("new password after restart: %d records, %v; want the records kept in the data dir", len(fs.Records()), err)
	}
}

// TestSecurityString: Security and Config describe what they require and
// never show the password, whatever the verb; Start refuses SASL without
// a password.
func TestSecurityString(t *testing.T) {
	p := kafkatest.NewPKI(t)
	const secret = "hunter2-secret"
	sec := saslUser(broker.SASLScramSHA256, "admin", secret)
	sec.TLS = serverTLS(t, p, true)
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
