package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Brokers returns the bootstrap servers as a list.
func (k Kafka) Brokers() []string {
	var out []string
	for _, s := range strings.Split(k.BootstrapServers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ClientOpts is the one place that turns the Kafka section into franz-go
// client options (seed brokers, client ID, timeouts, SASL, TLS). Callers
// append their own producer or consumer options after these.
//
// It reads the files the section names (SASL password file, TLS CA,
// certificate and key) on every call; an error names the key and the file
// and never holds the password.
func (k Kafka) ClientOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers()...),
		kgo.DialTimeout(k.DialTimeout),
		kgo.RetryTimeout(k.RequestTimeout),
		// Refresh metadata soon after a broker comes back, not after
		// franz-go's default 5s.
		kgo.MetadataMinAge(500 * time.Millisecond),
	}
	if k.ClientID != "" {
		opts = append(opts, kgo.ClientID(k.ClientID))
	}
	mech, err := k.SASL.mechanism()
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	if k.TLS.Enabled {
		cfg, err := k.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	return opts, nil
}

// mechanism builds the SASL mechanism, nil when Mechanism is empty.
func (s SASL) mechanism() (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	pass, err := s.password()
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: s.User, Pass: pass}.AsMechanism(), nil
	case MechanismScramSHA256:
		return scram.Auth{User: s.User, Pass: pass}.AsSha256Mechanism(), nil
	case MechanismScramSHA512:
		return scram.Auth{User: s.User, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not one of %s, %s, %s",
		s.Mechanism, MechanismPlain, MechanismScramSHA256, MechanismScramSHA512)
}

// password returns the password, from PasswordFile when set (its trailing
// newline trimmed, as editors and `echo` add one).
func (s SASL) password() (string, error) {
	if s.PasswordFile == "" {
		return s.Password, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka.sasl.password_file: %w", err)
	}
	pass := strings.TrimRight(string(b), "\r\n")
	if pass == "" {
		return "", fmt.Errorf("kafka.sasl.password_file: %s is empty", s.PasswordFile)
	}
	return pass, nil
}

// config builds the client TLS configuration: the CA file's certificates
// as the only roots when set (else the system's), the client certificate
// when set, and the server name to verify (else the dialed host).
func (t TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, fmt.Errorf("kafka.tls: cert_file and key_file go together")
		}
		certPEM, err := os.ReadFile(t.CertFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file: %w", err)
		}
		keyPEM, err := os.ReadFile(t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.key_file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls: cert_file %s with key_file %s: %w", t.CertFile, t.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Redacted returns a copy of c that is safe to log: the SASL password is
// replaced by "***", and an HTTP handler URL's password by "xxxxx" (the
// whole URL by "***" when it does not parse). c is not modified.
func (c Config) Redacted() Config {
	if c.Kafka.SASL.Password != "" {
		c.Kafka.SASL.Password = "***"
	}
	if c.Broker.SASL.Password != "" {
		c.Broker.SASL.Password = "***"
	}
	c.Consumers = slices.Clone(c.Consumers)
	for i, cs := range c.Consumers {
		if h := cs.Handler.HTTP; h != nil {
			cp := *h
			if u, err := url.Parse(h.URL); err == nil {
				cp.URL = u.Redacted()
			} else {
				cp.URL = "***"
			}
			c.Consumers[i].Handler.HTTP = &cp
		}
	}
	return c
}
