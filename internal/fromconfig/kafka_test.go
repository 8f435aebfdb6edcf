package fromconfig_test

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

	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/fromconfig"
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
func ping(t *testing.T, k config.Kafka) error {
	t.Helper()
	opts, err := fromconfig.ClientOpts(k)
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

func kafkaFor(addr string) config.Kafka {
	k := config.Default().Kafka
	k.BootstrapServers = addr
	k.ClientID = "test"
	k.RequestTimeout = 2 * time.Second
	return k
}

func TestClientOptsSASL(t *testing.T) {
	dir := t.TempDir()
	addr := cluster(t, kfake.EnableSASL(),
		kfake.Superuser(config.MechanismPlain, "plain-user", "plain-pass"),
		kfake.Superuser(config.MechanismScramSHA256, "scram-user", "scram-pass"),
		kfake.Superuser(config.MechanismScramSHA512, "scram512-user", "scram512-pass"),
	)
	cases := []struct {
		name string
		sasl config.SASL
		ok   bool
	}{
		{"plain", config.SASL{Mechanism: config.MechanismPlain, User: "plain-user", Password: "plain-pass"}, true},
		{"plain password file with newline", config.SASL{Mechanism: config.MechanismPlain, User: "plain-user",
			PasswordFile: writeFile(t, dir, "pw", "plain-pass\n")}, true},
		{"password file wins", config.SASL{Mechanism: config.MechanismPlain, User: "plain-user", Password: "wrong",
			PasswordFile: writeFile(t, dir, "pw2", "plain-pass\r\n")}, true},
		{"scram-sha-256", config.SASL{Mechanism: config.MechanismScramSHA256, User: "scram-user", Password: "scram-pass"}, true},
		{"scram-sha-512", config.SASL{Mechanism: config.MechanismScramSHA512, User: "scram512-user", Password: "scram512-pass"}, true},
		{"wrong password", config.SASL{Mechanism: config.MechanismPlain, User: "plain-user", Password: "nope"}, false},
		{"no sasl", config.SASL{}, false},
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
	k.TLS = config.TLS{Enabled: true, CAFile: caFile}
	if err := ping(t, k); err != nil {
		t.Errorf("ping over TLS with the CA: %v", err)
	}

	k.TLS = config.TLS{Enabled: true, CAFile: caFile, ServerName: "other.example"}
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
		k    config.Kafka
		want []string
	}{
		{"missing CA file", config.Kafka{TLS: config.TLS{Enabled: true, CAFile: missing}},
			[]string{"kafka.tls.ca_file", missing}},
		{"CA file without PEM", config.Kafka{TLS: config.TLS{Enabled: true, CAFile: notPEM}},
			[]string{"kafka.tls.ca_file", notPEM, "no PEM certificate"}},
		{"missing cert file", config.Kafka{TLS: config.TLS{Enabled: true, CertFile: missing, KeyFile: notPEM}},
			[]string{"kafka.tls.cert_file", missing}},
		{"missing key file", config.Kafka{TLS: config.TLS{Enabled: true, CertFile: notPEM, KeyFile: missing}},
			[]string{"kafka.tls.key_file", missing}},
		{"bad key pair", config.Kafka{TLS: config.TLS{Enabled: true, CertFile: notPEM, KeyFile: notPEM}},
			[]string{"kafka.tls", notPEM}},
		{"cert without key", config.Kafka{TLS: config.TLS{Enabled: true, CertFile: notPEM}},
			[]string{"cert_file and key_file go together"}},
		{"missing password file", config.Kafka{SASL: config.SASL{Mechanism: config.MechanismPlain, User: "u", Password: "hunter2", PasswordFile: missing}},
			[]string{"kafka.sasl.password_file", missing}},
		{"empty password file", config.Kafka{SASL: config.SASL{Mechanism: config.MechanismPlain, User: "u", PasswordFile: empty}},
			[]string{"kafka.sasl.password_file", empty, "is empty"}},
		{"unknown mechanism", config.Kafka{SASL: config.SASL{Mechanism: "GSSAPI", User: "u", Password: "hunter2"}},
			[]string{`kafka.sasl.mechanism: "GSSAPI"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fromconfig.ClientOpts(tc.k)
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
	k := config.Kafka{BootstrapServers: "h:1", TLS: config.TLS{CAFile: "/does/not/exist"}}
	if _, err := fromconfig.ClientOpts(k); err != nil {
		t.Errorf("ClientOpts with TLS off read the CA file: %v", err)
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
