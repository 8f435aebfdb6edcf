package fromconfig_test

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/fromconfig"
)

// pingConn builds a client from the seed broker of k and ConnOpts(k)
// alone (as the runtime gets them through actors.KafkaOptions) and pings.
func pingConn(t *testing.T, k config.Kafka) error {
	t.Helper()
	opts, err := fromconfig.ConnOpts(k)
	if err != nil {
		t.Fatalf("ConnOpts: %v", err)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Brokers()...), kgo.RetryTimeout(k.RequestTimeout)}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// TestConnOptsCarrySASLAndTLS: ConnOpts is how a client connects, so a
// client with the seed brokers and ConnOpts only authenticates and speaks
// TLS as the section says.
func TestConnOptsCarrySASLAndTLS(t *testing.T) {
	dir := t.TempDir()
	saslAddr := cluster(t, kfake.EnableSASL(), kfake.Superuser(config.MechanismScramSHA256, "svc", "svc-pass"))
	k := kafkaFor(saslAddr)
	k.SASL = config.SASL{Mechanism: config.MechanismScramSHA256, User: "svc", PasswordFile: writeFile(t, dir, "pw", "svc-pass\n")}
	if err := pingConn(t, k); err != nil {
		t.Errorf("ping with ConnOpts' SASL: %v", err)
	}
	k.SASL = config.SASL{Mechanism: config.MechanismScramSHA256, User: "svc", Password: "nope"}
	if err := pingConn(t, k); err == nil {
		t.Error("ping with a wrong password succeeded")
	}
	k.SASL = config.SASL{}
	if err := pingConn(t, k); err == nil {
		t.Error("ping without SASL succeeded against a SASL cluster")
	}

	caPEM, serverCert := testCA(t)
	caFile := writeFile(t, dir, "ca.pem", caPEM)
	tlsAddr := cluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}))
	k = kafkaFor(tlsAddr)
	k.TLS = config.TLS{Enabled: true, CAFile: caFile}
	if err := pingConn(t, k); err != nil {
		t.Errorf("ping over ConnOpts' TLS: %v", err)
	}
	k.TLS = config.TLS{Enabled: true, CAFile: caFile, ServerName: "other.example"}
	if err := pingConn(t, k); err == nil {
		t.Error("ping with a server name the certificate lacks succeeded")
	}
}

// TestConnOptsErrors: ConnOpts reads the files the section names and
// fails as ClientOpts does, naming the key and the file, never the
// password.
func TestConnOptsErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := writeFile(t, dir, "not.pem", "hello")
	cases := []struct {
		name string
		k    config.Kafka
		want []string
	}{
		{"missing CA file", config.Kafka{TLS: config.TLS{Enabled: true, CAFile: missing}}, []string{"kafka.tls.ca_file", missing}},
		{"cert without key", config.Kafka{TLS: config.TLS{Enabled: true, CertFile: notPEM}}, []string{"cert_file and key_file go together"}},
		{"missing password file", config.Kafka{SASL: config.SASL{Mechanism: config.MechanismPlain, User: "u", Password: "hunter2", PasswordFile: missing}},
			[]string{"kafka.sasl.password_file", missing}},
		{"unknown mechanism", config.Kafka{SASL: config.SASL{Mechanism: "GSSAPI", User: "u", Password: "hunter2"}}, []string{`kafka.sasl.mechanism: "GSSAPI"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fromconfig.ConnOpts(tc.k)
			if err == nil {
				t.Fatalf("ConnOpts: no error, want one with %q", tc.want)
			}
			_, cerr := fromconfig.ClientOpts(tc.k)
			if cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("ClientOpts error %v, want ConnOpts' %v", cerr, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	if _, err := fromconfig.ConnOpts(config.Kafka{TLS: config.TLS{CAFile: "/does/not/exist"}}); err != nil {
		t.Errorf("ConnOpts with TLS off read the CA file: %v", err)
	}
}
