package fromconfig_test

// These tests run what the configuration adds to the embedded broker's
// security: the broker.* keys through BrokerSecurity (password files, the
// errors naming keys and files), and a broker and a client both built
// from configuration talking SASL over mutual TLS. The broker's security
// itself (every mechanism, refusals, TLS, mutual TLS, the data dir) is
// tested with broker.Security built directly in package broker.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
