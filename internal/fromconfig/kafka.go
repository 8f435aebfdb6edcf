// Package fromconfig is the one adapter between the daemon's configuration
// (package config: data, loading and validation) and the library: it
// turns the kafka section into franz-go client options (seed brokers,
// timeouts, SASL, TLS), the broker section into a running embedded
// broker, the whole file into actors.RuntimeOption values and each
// declared consumer into actors.ConsumerOption values. The command line
// (package cli) builds everything through it; a service embedding actord
// uses the actors options directly and never links this package.
package fromconfig

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/actord/actord/config"
)

// ClientOpts is the one place that turns the kafka section into franz-go
// client options for the command line's own clients (seed brokers, client
// ID, timeouts, then ConnOpts). Callers append their own producer or
// consumer options after these.
func ClientOpts(k config.Kafka) ([]kgo.Opt, error) {
	conn, err := ConnOpts(k)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers()...),
		kgo.RetryTimeout(k.RequestTimeout),
		// Refresh metadata soon after a broker comes back, not after
		// franz-go's default 5s.
		kgo.MetadataMinAge(500 * time.Millisecond),
	}
	if k.ClientID != "" {
		opts = append(opts, kgo.ClientID(k.ClientID))
	}
	return append(opts, conn...), nil
}

// ConnOpts is how a client connects: the dial timeout, SASL and TLS. The
// runtime gets them through actors.KafkaOptions.
//
// It reads the files the section names (SASL password file, TLS CA,
// certificate and key) on every call; an error names the key and the file
// and never holds the password.
func ConnOpts(k config.Kafka) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.DialTimeout(k.DialTimeout)}
	mech, err := saslMechanism(k.SASL)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	if k.TLS.Enabled {
		cfg, err := tlsConfig(k.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	return opts, nil
}

// saslMechanism builds the SASL mechanism, nil when Mechanism is empty.
func saslMechanism(s config.SASL) (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	pass, err := saslPassword(s)
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case config.MechanismPlain:
		return plain.Auth{User: s.User, Pass: pass}.AsMechanism(), nil
	case config.MechanismScramSHA256:
		return scram.Auth{User: s.User, Pass: pass}.AsSha256Mechanism(), nil
	case config.MechanismScramSHA512:
		return scram.Auth{User: s.User, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not one of %s, %s, %s",
		s.Mechanism, config.MechanismPlain, config.MechanismScramSHA256, config.MechanismScramSHA512)
}

// saslPassword returns the password, from PasswordFile when set (its trailing
// newline trimmed, as editors and `echo` add one).
func saslPassword(s config.SASL) (string, error) {
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

// tlsConfig builds the client TLS configuration: the CA file's certificates
// as the only roots when set (else the system's), the client certificate
// when set, and the server name to verify (else the dialed host).
func tlsConfig(t config.TLS) (*tls.Config, error) {
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
