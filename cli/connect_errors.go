package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// unreachableError is the one-line failure of a command that could not
// reach the cluster. It unwraps to the client's error.
type unreachableError struct {
	brokers []string
	err     error
}

func (e *unreachableError) Error() string {
	addrs := clip(strings.Join(e.brokers, ","), maxEcho)
	if addrs == "" {
		addrs = "(no bootstrap servers configured)"
	}
	return fmt.Sprintf("cannot reach Kafka at %s: %s; start a broker with 'actord broker' or pass --embedded to run one in-process",
		addrs, unreachableReason(e.err))
}

func (e *unreachableError) Unwrap() error { return e.err }

// authFailedError is the one-line failure of a command whose SASL
// credentials the cluster refused. It unwraps to the client's error, which
// is kerr.SaslAuthenticationFailed.
type authFailedError struct {
	brokers []string
	err     error
}

func (e *authFailedError) Error() string {
	return fmt.Sprintf("authentication failed at Kafka %s: %s; check kafka.sasl.mechanism, kafka.sasl.user and kafka.sasl.password (or kafka.sasl.password_file)",
		clip(strings.Join(e.brokers, ","), maxEcho), authFailedReason(e.err))
}

func (e *authFailedError) Unwrap() error { return e.err }

// authFailedReason is the broker's own words: a Kafka broker (and the
// embedded one) names the mechanism, the embedded one the user too. They
// never hold the password, which the client sent (PLAIN) or proved
// (SCRAM) but the broker does not echo.
func authFailedReason(err error) string {
	prefix := kerr.SaslAuthenticationFailed.Error() + ": "
	msg := err.Error()
	if i := strings.LastIndex(msg, prefix); i >= 0 {
		// "authentication failed" leads the line already.
		return strings.TrimPrefix(msg[i+len(prefix):], "Authentication failed: ")
	}
	return "the cluster refused the SASL credentials (" + kerr.SaslAuthenticationFailed.Message + ")"
}

// brokerUnreachable turns a client error that isUnreachable into the one
// line every command prints for it: the addresses tried, the cause in a few
// words, and how to get a broker; or, for refused SASL credentials, that
// authentication failed and what the broker said. Commands pass
// cfg.Kafka.Brokers().
func brokerUnreachable(brokers []string, err error) error {
	if errors.Is(err, kerr.SaslAuthenticationFailed) {
		return &authFailedError{brokers: brokers, err: err}
	}
	return &unreachableError{brokers: brokers, err: err}
}

// isUnreachable reports whether err means the command cannot work with the
// cluster at all: no broker could be reached or none answered in time
// (kafka.request_timeout), from a refused, reset or unroutable connection,
// an unknown host, or the command's deadline; or the cluster refused the
// SASL credentials (SASL_AUTHENTICATION_FAILED, which brokerUnreachable
// reports as such). A broker that answered with any other Kafka error is
// reachable.
func isUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ue *unreachableError
	var ae *authFailedError
	if errors.As(err, &ue) || errors.As(err, &ae) {
		return false // already reported as such
	}
	if errors.Is(err, kerr.SaslAuthenticationFailed) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unreachableReason says why in a few words, without the client's wrapping.
func unreachableReason(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer before the request timeout (kafka.request_timeout)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		return "unknown host " + clip(dns.Name, maxEcho)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return clip(op.Err.Error(), maxReason)
	}
	return clip(err.Error(), maxReason)
}

// maxEcho is how much of a user's value (the --brokers list, a host name)
// an error line quotes; maxReason how much of a client's error, which may
// quote the value in turn.
const (
	maxEcho   = 200
	maxReason = 500
)

// clip cuts s after its first n characters, saying how long it was: a
// 10,000-character --brokers value is not echoed whole.
func clip(s string, n int) string {
	total := utf8.RuneCountInString(s)
	if total <= n {
		return s
	}
	cut := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return fmt.Sprintf("%s... (%d characters)", s[:cut], total)
}

// withClient runs fn with a client of the configured cluster (the embedded
// broker with --embedded) and a context that ends after
// kafka.request_timeout. A cluster that cannot be reached is reported as
// one line naming the addresses.
func (a *app) withClient(cmd *cobra.Command, fn func(context.Context, *kgo.Client) error) error {
	cfg, opts, stop, err := a.cluster(cmd)
	if err != nil {
		return err
	}
	defer stop()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), cfg.Kafka.RequestTimeout)
	defer cancel()
	if err := fn(ctx, cl); err != nil {
		if isUnreachable(err) {
			return brokerUnreachable(cfg.Kafka.Brokers(), err)
		}
		return err
	}
	return nil
}
