package fromconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/actord/actord/broker"
	"github.com/actord/actord/config"
)

// BrokerSecurity reads the broker.sasl.* and broker.tls.* keys of a loaded
// configuration, with the files they name (password, certificate, key,
// client CA). An error names the key and the file, never the password.
func BrokerSecurity(b config.Broker) (broker.Security, error) {
	var s broker.Security
	if m := b.SASL.Mechanism; m != "" {
		switch m {
		case broker.SASLPlain, broker.SASLScramSHA256, broker.SASLScramSHA512:
		default:
			return broker.Security{}, fmt.Errorf("broker.sasl.mechanism: %q is not one of %s, %s, %s", m, broker.SASLPlain, broker.SASLScramSHA256, broker.SASLScramSHA512)
		}
		if b.SASL.User == "" {
			return broker.Security{}, fmt.Errorf("broker.sasl.user: required with mechanism %s", m)
		}
		pass := b.SASL.Password
		if f := b.SASL.PasswordFile; f != "" {
			data, err := os.ReadFile(f)
			if err != nil {
				return broker.Security{}, fmt.Errorf("broker.sasl.password_file: %w", err)
			}
			if pass = strings.TrimRight(string(data), "\r\n"); pass == "" {
				return broker.Security{}, fmt.Errorf("broker.sasl.password_file: %s is empty", f)
			}
		}
		if pass == "" {
			return broker.Security{}, fmt.Errorf("broker.sasl.password: required with mechanism %s (or set broker.sasl.password_file)", m)
		}
		s.SASLMechanism, s.User, s.Password = m, b.SASL.User, pass
	}
	t := b.TLS
	if t.CertFile == "" && t.KeyFile == "" && t.ClientCAFile == "" {
		return s, nil
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return broker.Security{}, errors.New("broker.tls: cert_file and key_file go together")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return broker.Security{}, fmt.Errorf("broker.tls: cert_file %s with key_file %s: %w", t.CertFile, t.KeyFile, pathErr(err))
	}
	s.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return broker.Security{}, fmt.Errorf("broker.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return broker.Security{}, fmt.Errorf("broker.tls.client_ca_file: %s holds no PEM certificate", t.ClientCAFile)
		}
		s.TLS.ClientCAs = pool
		s.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return s, nil
}

// StartBroker starts the embedded broker as the broker section of the
// configuration describes it (listen address, data dir, auto-creation,
// default partitions, SASL and TLS): the one way `--embedded`,
// `kafka.enabled: false` and `actord broker` start it.
func StartBroker(b config.Broker) (*broker.Broker, error) {
	sec, err := BrokerSecurity(b)
	if err != nil {
		return nil, err
	}
	return broker.Start(broker.Config{
		Listen:            b.Listen,
		DataDir:           b.DataDir,
		AutoCreateTopics:  b.AutoCreateTopics,
		DefaultPartitions: b.DefaultPartitions,
		Security:          sec,
	})
}

// pathErr drops the *os.PathError around err: the messages name the key
// and the file already.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
