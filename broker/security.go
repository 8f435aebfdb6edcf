package broker

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The SASL mechanisms the embedded broker can require.
const (
	// SASLPlain sends the password as it is: use it with TLS.
	SASLPlain = "PLAIN"
	// SASLScramSHA256 proves the password without sending it.
	SASLScramSHA256 = "SCRAM-SHA-256"
	// SASLScramSHA512 is SCRAM with SHA-512.
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Security is what the embedded broker requires of every connection. The
// zero value requires nothing: plaintext, no authentication.
type Security struct {
	// SASLMechanism, when set, makes every connection authenticate with
	// it as User and Password before any other request: SASLPlain,
	// SASLScramSHA256 or SASLScramSHA512. A client that fails is answered
	// SASL_AUTHENTICATION_FAILED, as Kafka does, so that it gives up at
	// once instead of reconnecting.
	SASLMechanism string
	// User is the one user the broker accepts; it may do anything (a
	// superuser).
	User string
	// Password is User's password. It is never logged, never part of an
	// error, and never written to the data dir.
	Password string
	// TLS, when set, makes the listener accept TLS connections only. It
	// must hold the broker's certificate; ClientCAs with ClientAuth
	// tls.RequireAndVerifyClientCert makes it mutual.
	TLS *tls.Config
}

// String describes what s requires, without the password: "SASL
// SCRAM-SHA-256 (user admin), TLS with client certificates", or "nothing".
func (s Security) String() string {
	var parts []string
	if s.SASLMechanism != "" {
		parts = append(parts, fmt.Sprintf("SASL %s (user %s)", s.SASLMechanism, s.User))
	}
	if s.TLS != nil {
		if s.TLS.ClientAuth == tls.RequireAndVerifyClientCert {
			parts = append(parts, "TLS with client certificates")
		} else {
			parts = append(parts, "TLS")
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// GoString keeps %#v from printing the password.
func (s Security) GoString() string { return "broker.Security{" + s.String() + "}" }

// check rejects a Security that Start cannot honour.
func (s Security) check() error {
	switch s.SASLMechanism {
	case "":
		return nil
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	default:
		return fmt.Errorf("embedded broker: SASL mechanism %q is not one of %s, %s, %s", s.SASLMechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512)
	}
	if s.User == "" || s.Password == "" {
		return fmt.Errorf("embedded broker: SASL %s needs a user and a password", s.SASLMechanism)
	}
	return nil
}

// opts are the kfake options that make it require s's SASL user. TLS is
// not among them: listener does it, so that the SASL exchange can be
// watched in plaintext.
func (s Security) opts() []kfake.Opt {
	if s.SASLMechanism == "" {
		return nil
	}
	return []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(s.SASLMechanism, s.User, s.Password)}
}

// listener wraps ln with what s requires: TLS, then the watch on SASL
// authentication (see authConn).
func (s Security) listener(ln net.Listener) net.Listener {
	if s.TLS == nil && s.SASLMechanism == "" {
		return ln
	}
	return &secureListener{Listener: ln, tls: s.TLS, mechanism: s.SASLMechanism}
}

// credentialsFile is where kfake keeps its SASL users in a data dir.
const credentialsFile = "sasl.json"

// forgetCredentials removes the SASL users kfake keeps in dataDir. Loaded
// at start, they would replace the configured user (an old password would
// keep working, the new one would not); written at close, they would hold
// a PLAIN password in clear text. The configuration is the one source of
// credentials.
func forgetCredentials(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, credentialsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("embedded broker: data dir %s: %w", dataDir, unwrapPathErr(err))
	}
	return nil
}

// secureListener hands kfake connections that speak TLS (when set) and
// whose failed SASL authentication is answered (when SASL is required).
type secureListener struct {
	net.Listener
	tls       *tls.Config
	mechanism string
	// closed is set when the broker shuts down (kfake closes its
	// listeners first): a request cut off then did not fail to
	// authenticate.
	closed atomic.Bool
}

func (l *secureListener) Close() error {
	l.closed.Store(true)
	return l.Listener.Close()
}

func (l *secureListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.tls != nil {
		c = tls.Server(c, l.tls)
	}
	if l.mechanism != "" {
		c = &authConn{Conn: c, ln: l}
	}
	return c, nil
}

// authConn watches the requests of one connection for the SASL exchange.
// kfake closes a connection whose authentication fails without answering
// the SASLAuthenticate request; a client reads that as a dropped
// connection and reconnects, again and again, until its retry timeout. A
// Kafka broker answers SASL_AUTHENTICATION_FAILED first, which clients
// treat as final. So when kfake closes the connection with a
// SASLAuthenticate request unanswered, authConn answers it the way Kafka
// does, then closes.
//
// kfake reads one request at a time and writes each response with one
// Write, which is what lets authConn pair them by correlation ID.
type authConn struct {
	net.Conn
	ln *secureListener

	mu      sync.Mutex
	head    []byte    // the start of the request being read
	skip    int       // bytes of that request still to read past head
	pending []saslReq // SASL requests read and not yet answered
	asked   string    // the mechanism the client's handshake named
	user    string    // the user the client's authentication named

	once   sync.Once // the answer and the close happen once
	closed error     // Close's result
}

// saslReq is a SASL request awaiting its response.
type saslReq struct {
	key     int16
	version int16
	corr    int32
}

// peekLen bounds how much of each request authConn keeps: enough for the
// header, a SASL mechanism name and the start of the first SASL message.
const peekLen = 1024

func (c *authConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.observe(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// observe follows the request frames in b: a 4-byte size, then the
// request. The first peekLen bytes of each are parsed; the rest skipped.
func (c *authConn) observe(b []byte) {
	for len(b) > 0 {
		if c.skip > 0 {
			k := min(c.skip, len(b))
			c.skip -= k
			b = b[k:]
			continue
		}
		need := 4
		if len(c.head) >= 4 {
			need += min(int(binary.BigEndian.Uint32(c.head)), peekLen)
		}
		k := min(need-len(c.head), len(b))
		c.head = append(c.head, b[:k]...)
		b = b[k:]
		if len(c.head) < 4 {
			continue
		}
		size := int(binary.BigEndian.Uint32(c.head))
		if len(c.head) < 4+min(size, peekLen) {
			continue
		}
		c.request(c.head[4:])
		c.skip = size - min(size, peekLen)
		// The head may hold a PLAIN password: do not keep it around.
		clear(c.head)
		c.head = c.head[:0]
	}
}

// request notes a SASL request from the start of its bytes: the header
// (key, version, correlation ID, client ID), then the body.
func (c *authConn) request(b []byte) {
	r := kbin.Reader{Src: b}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	r.NullableString() // client ID
	if r.Complete() != nil {
		return
	}
	switch key {
	case kmsg.SASLHandshake.Int16():
		req := kmsg.NewPtrSASLHandshakeRequest()
		req.Version = version
		if req.ReadFrom(r.Src) == nil {
			c.asked = req.Mechanism
		}
	case kmsg.SASLAuthenticate.Int16():
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version = version
		if req.IsFlexible() {
			kmsg.SkipTags(&r)
		}
		if r.Complete() == nil && req.ReadFrom(r.Src) == nil {
			if u := saslUser(c.asked, req.SASLAuthBytes); u != "" {
				c.user = u
			}
			clear(req.SASLAuthBytes)
		}
	default:
		return
	}
	c.pending = append(c.pending, saslReq{key: key, version: version, corr: corr})
}

// saslUser is the user name in the first message of a SASL exchange, or
// "". Only the user's bytes become a string: never the password's.
func saslUser(mechanism string, msg []byte) string {
	switch mechanism {
	case SASLPlain:
		// authzid NUL user NUL password
		if parts := bytes.SplitN(msg, []byte{0}, 3); len(parts) == 3 {
			return string(parts[1])
		}
	case SASLScramSHA256, SASLScramSHA512:
		// gs2-header "n,," then "n=user,r=nonce" (RFC 5802)
		for _, attr := range bytes.Split(msg, []byte(",")) {
			if u, ok := bytes.CutPrefix(attr, []byte("n=")); ok {
				return strings.NewReplacer("=2C", ",", "=3D", "=").Replace(string(u))
			}
		}
	}
	return ""
}

func (c *authConn) Write(p []byte) (int, error) {
	if len(p) >= 8 {
		corr := int32(binary.BigEndian.Uint32(p[4:8]))
		c.mu.Lock()
		for i, r := range c.pending {
			if r.corr == corr {
				c.pending = c.pending[i+1:]
				break
			}
		}
		c.mu.Unlock()
	}
	return c.Conn.Write(p)
}

// Close answers a SASLAuthenticate request kfake dropped, then closes.
func (c *authConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		var unanswered *saslReq
		if n := len(c.pending); n > 0 && c.pending[n-1].key == kmsg.SASLAuthenticate.Int16() && !c.ln.closed.Load() {
			unanswered = &c.pending[n-1]
		}
		msg := c.failure()
		c.mu.Unlock()
		if unanswered != nil {
			c.answer(*unanswered, msg)
		}
		c.closed = c.Conn.Close()
	})
	return c.closed
}

// failure says why authentication failed, as the client will read it.
func (c *authConn) failure() string {
	accepted := c.ln.mechanism
	if c.asked != "" && c.asked != accepted {
		return fmt.Sprintf("Authentication failed: SASL mechanism %s is not enabled; this broker accepts %s", c.asked, accepted)
	}
	if c.user != "" {
		return fmt.Sprintf("Authentication failed: invalid credentials for user %q with SASL mechanism %s", c.user, accepted)
	}
	return fmt.Sprintf("Authentication failed: invalid credentials with SASL mechanism %s", accepted)
}

// answer writes the SASL_AUTHENTICATION_FAILED response to r.
func (c *authConn) answer(r saslReq, msg string) {
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.Version = r.version
	resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
	resp.ErrorMessage = &msg
	buf := make([]byte, 8, 128) // size, correlation ID
	binary.BigEndian.PutUint32(buf[4:], uint32(r.corr))
	if resp.IsFlexible() {
		buf = append(buf, 0) // no tagged fields in the header
	}
	buf = resp.AppendTo(buf)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
	// A client that stopped reading must not hold the close up.
	c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	c.Conn.Write(buf)
}
