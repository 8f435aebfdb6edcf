package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// writeFile writes content to name in dir and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cluster starts a one-broker kfake cluster with opts.
func cluster(t *testing.T, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// ping builds a client from k and pings the cluster.
func ping(t *testing.T, k Kafka) error {
	t.Helper()
	opts, err := k.ClientOpts()
	if err != nil {
		t.Fatalf("ClientOpts: %v", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func kafkaFor(addr string) Kafka {
	k := Default().Kafka
	k.BootstrapServers = addr
	k.ClientID = "test"
	k.RequestTimeout = 2 * time.Second
	return k
}

func TestClientOptsSASL(t *testing.T) {
	dir := t.TempDir()
	addr := cluster(t, kfake.EnableSASL(),
		kfake.Superuser(MechanismPlain, "plain-user", "plain-pass"),
		kfake.Superuser(MechanismScramSHA256, "scram-user", "scram-pass"),
		kfake.Superuser(MechanismScramSHA512, "scram512-user", "scram512-pass"),
	)
	cases := []struct {
		name string
		sasl SASL
		ok   bool
	}{
		{"plain", SASL{Mechanism: MechanismPlain, User: "plain-user", Password: "plain-pass"}, true},
		{"plain password file with newline", SASL{Mechanism: MechanismPlain, User: "plain-user",
			PasswordFile: writeFile(t, dir, "pw", "plain-pass\n")}, true},
		{"password file wins", SASL{Mechanism: MechanismPlain, User: "plain-user", Password: "wrong",
			PasswordFile: writeFile(t, dir, "pw2", "plain-pass\r\n")}, true},
		{"scram-sha-256", SASL{Mechanism: MechanismScramSHA256, User: "scram-user", Password: "scram-pass"}, true},
		{"scram-sha-512", SASL{Mechanism: MechanismScramSHA512, User: "scram512-user", Password: "scram512-pass"}, true},
		{"wrong password", SASL{Mechanism: MechanismPlain, User: "plain-user", Password: "nope"}, false},
		{"no sasl", SASL{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := kafkaFor(addr)
			k.SASL = tc.sasl
			err := ping(t, k)
			if tc.ok && err != nil {
				t.Errorf("ping: %v", err)
			}
			if !tc.ok && err == nil {
				t.Errorf("ping succeeded, want an authentication failure")
			}
		})
	}
}

func TestClientOptsTLS(t *testing.T) {
	dir := t.TempDir()
	caPEM, serverCert := testCA(t)
	caFile := writeFile(t, dir, "ca.pem", caPEM)
	addr := cluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}))

	k := kafkaFor(addr)
	k.TLS = TLS{Enabled: true, CAFile: caFile}
	if err := ping(t, k); err != nil {
		t.Errorf("ping over TLS with the CA: %v", err)
	}

	k.TLS = TLS{Enabled: true, CAFile: caFile, ServerName: "other.example"}
	if err := ping(t, k); err == nil {
		t.Errorf("ping with a server name the certificate lacks succeeded")
	}
}

func TestClientOptsErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := writeFile(t, dir, "not.pem", "hello")
	empty := writeFile(t, dir, "empty", "\n")
	cases := []struct {
		name string
		k    Kafka
		want []string
	}{
		{"missing CA file", Kafka{TLS: TLS{Enabled: true, CAFile: missing}},
			[]string{"kafka.tls.ca_file", missing}},
		{"CA file without PEM", Kafka{TLS: TLS{Enabled: true, CAFile: notPEM}},
			[]string{"kafka.tls.ca_file", notPEM, "no PEM certificate"}},
		{"missing cert file", Kafka{TLS: TLS{Enabled: true, CertFile: missing, KeyFile: notPEM}},
			[]string{"kafka.tls.cert_file", missing}},
		{"missing key file", Kafka{TLS: TLS{Enabled: true, CertFile: notPEM, KeyFile: missing}},
			[]string{"kafka.tls.key_file", missing}},
		{"bad key pair", Kafka{TLS: TLS{Enabled: true, CertFile: notPEM, KeyFile: notPEM}},
			[]string{"kafka.tls", notPEM}},
		{"cert without key", Kafka{TLS: TLS{Enabled: true, CertFile: notPEM}},
			[]string{"cert_file and key_file go together"}},
		{"missing password file", Kafka{SASL: SASL{Mechanism: MechanismPlain, User: "u", Password: "hunter2", PasswordFile: missing}},
			[]string{"kafka.sasl.password_file", missing}},
		{"empty password file", Kafka{SASL: SASL{Mechanism: MechanismPlain, User: "u", PasswordFile: empty}},
			[]string{"kafka.sasl.password_file", empty, "is empty"}},
		{"unknown mechanism", Kafka{SASL: SASL{Mechanism: "GSSAPI", User: "u", Password: "hunter2"}},
			[]string{`kafka.sasl.mechanism: "GSSAPI"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.k.ClientOpts()
			if err == nil {
				t.Fatalf("ClientOpts: no error, want one with %q", tc.want)
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
}

func TestClientOptsTLSOffIgnoresFiles(t *testing.T) {
	k := Kafka{BootstrapServers: "h:1", TLS: TLS{CAFile: "/does/not/exist"}}
	if _, err := k.ClientOpts(); err != nil {
		t.Errorf("ClientOpts with TLS off read the CA file: %v", err)
	}
}

func TestRedacted(t *testing.T) {
	c := validConfig()
	c.Kafka.SASL = SASL{Mechanism: MechanismPlain, User: "u", Password: "hunter2"}
	c.Consumers[0].Handler = Handler{HTTP: &HTTPHandler{URL: "https://u:s3cret@hooks.local/x"}}
	r := c.Redacted()
	if r.Kafka.SASL.Password != "***" || r.Kafka.SASL.User != "u" {
		t.Errorf("redacted SASL = %+v", r.Kafka.SASL)
	}
	if got := r.Consumers[0].Handler.HTTP.URL; strings.Contains(got, "s3cret") || !strings.Contains(got, "hooks.local") {
		t.Errorf("redacted URL = %q", got)
	}
	if c.Kafka.SASL.Password != "hunter2" || c.Consumers[0].Handler.HTTP.URL != "https://u:s3cret@hooks.local/x" {
		t.Errorf("Redacted modified its receiver")
	}
	if got := (Config{}).Redacted().Kafka.SASL.Password; got != "" {
		t.Errorf("empty password redacted to %q, want it left empty", got)
	}
}

// testCA returns a CA certificate (PEM) and a server certificate it signed
// for 127.0.0.1 and localhost.
func testCA(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "actord test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return string(caPEM), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
