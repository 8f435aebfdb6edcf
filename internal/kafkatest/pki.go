package kafkatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a throwaway CA with a server certificate for 127.0.0.1 and
// broker.test, and a client certificate, as PEM files.
type PKI struct {
	CAFile, CertFile, KeyFile, ClientCertFile, ClientKeyFile string
	// OtherCAFile is a CA that signed none of them.
	OtherCAFile string
}

// NewPKI writes a fresh PKI into a temporary directory of the test.
func NewPKI(t testing.TB) PKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	serial := int64(0)
	sign := func(tmpl, parent *x509.Certificate, pub, priv any) (*x509.Certificate, []byte) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(time.Hour)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, der
	}
	newCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		k := newKey()
		cert, der := sign(&x509.Certificate{
			Subject:               pkix.Name{CommonName: name},
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}, nil, &k.PublicKey, k)
		return cert, k, der
	}

	ca, caKey, caDER := newCA("actord test CA")
	_, _, otherDER := newCA("actord other CA")
	var p PKI
	p.CAFile = write("ca.pem", "CERTIFICATE", caDER)
	p.OtherCAFile = write("other-ca.pem", "CERTIFICATE", otherDER)

	serverKey := newKey()
	_, serverDER := sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "broker.test"},
		DNSNames:    []string{"broker.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &serverKey.PublicKey, caKey)
	p.CertFile = write("server.pem", "CERTIFICATE", serverDER)
	p.KeyFile = write("server-key.pem", "PRIVATE KEY", keyDER(serverKey))

	clientKey := newKey()
	_, clientDER := sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "actord-client"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, &clientKey.PublicKey, caKey)
	p.ClientCertFile = write("client.pem", "CERTIFICATE", clientDER)
	p.ClientKeyFile = write("client-key.pem", "PRIVATE KEY", keyDER(clientKey))
	return p
}
