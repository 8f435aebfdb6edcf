package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// unreachableError is the one-line failure of a command that could not
// reach the cluster. It unwraps to the client's error.
type unreachableError struct {
	brokers []string
	err     error
}

func (e *unreachableError) Error() string {
	addrs := strings.Join(e.brokers, ",")
	if addrs == "" {
		addrs = "(no bootstrap servers configured)"
	}
	return fmt.Sprintf("cannot reach Kafka at %s: %s; start a broker with 'actord broker' or pass --embedded to run one in-process",
		addrs, unreachableReason(e.err))
}

func (e *unreachableError) Unwrap() error { return e.err }

// brokerUnreachable turns a client error that isUnreachable into the one
// line every command prints for it: the addresses tried, the cause in a few
// words, and how to get a broker. Commands pass cfg.Kafka.Brokers().
func brokerUnreachable(brokers []string, err error) error {
	return &unreachableError{brokers: brokers, err: err}
}

// isUnreachable reports whether err means no broker could be reached or
// none answered in time (kafka.request_timeout): a refused, reset or
// unroutable connection, an unknown host, or the command's deadline.
// A broker that answered with a Kafka error is reachable.
func isUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ue *unreachableError
	if errors.As(err, &ue) {
		return false // already reported as such
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
		return "unknown host " + dns.Name
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
