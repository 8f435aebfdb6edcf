package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
)

// httpHandler POSTs each record to one URL.
type httpHandler struct {
	url    string
	client *http.Client
}

func newHTTP(c config.HTTPHandler) (Func, error) {
	h, err := buildHTTP(c)
	if err != nil {
		return nil, err
	}
	return h.handle, nil
}

// buildHTTP checks c and builds its client.
func buildHTTP(c config.HTTPHandler) (*httpHandler, error) {
	if c.URL == "" {
		return nil, errors.New("handler: http needs a url: http: {url: https://...}")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("handler: http url %q: %w", c.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("handler: http url %q: want http://host/... or https://host/...", c.URL)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = config.DefaultHTTPTimeout
	}
	h := &httpHandler{
		url: c.URL,
		client: &http.Client{
			Timeout: timeout,
			// A 301, 302 or 303 would turn the POST into a bodyless GET that
			// looks like success: a redirect is the endpoint's answer, not a
			// hop to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	return h, nil
}

func (h *httpHandler) handle(ctx context.Context, m actors.Message[[]byte]) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(m.Raw))
	if err != nil {
		return actors.Permanent(fmt.Errorf("http %s: %w", h.url, err))
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Actord-Topic", m.Topic)
	req.Header.Set("X-Actord-Partition", itoa(m.Partition))
	req.Header.Set("X-Actord-Offset", itoa(m.Offset))
	req.Header.Set("X-Actord-Key", string(m.Key))
	req.Header.Set("X-Actord-Attempt", itoa(max(m.Attempt, 1)))
	// The record's own headers come as X-Actord-Header-*.
	for _, rh := range m.Headers {
		if strings.EqualFold(rh.Key, "content-type") {
			req.Header.Set("Content-Type", string(rh.Value))
		}
		req.Header.Add("X-Actord-Header-"+rh.Key, string(rh.Value))
	}
	// The transport would refuse these on every attempt: say which header
	// is unsendable instead of retrying a request that can never go out.
	for name, vs := range req.Header {
		if !validHeaderName(name) {
			return actors.Permanent(fmt.Errorf("http %s: header name %q is not an HTTP token", h.url, name))
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return actors.Permanent(fmt.Errorf("http %s: %s holds bytes an HTTP header cannot carry (control characters)", h.url, name))
			}
		}
	}

	_, err = h.send(ctx, req, maxReason)
	return err
}

// send POSTs req, with the attempt's trace context when tracing is on (W3C
// Trace Context: the endpoint continues the trace), and classifies the
// outcome: a 2xx is done, with the first keep bytes of its body; 503 and
// 429 (their Retry-After read) and an endpoint that cannot be reached
// (refused, reset, no route) are the downstream's failure, unavailable;
// other 5xx and a timeout (slow, perhaps for this record only; many
// timing out still open the circuit by their number) are retried; any
// other status is permanent.
func (h *httpHandler) send(ctx context.Context, req *http.Request, keep int64) ([]byte, error) {
	if tp, ts := actors.TraceContext(ctx); tp != "" {
		req.Header.Set("Traceparent", tp)
		if ts != "" {
			req.Header.Set("Tracestate", ts)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("http %s: stopped: %w", h.url, context.Cause(ctx))
		}
		err = fmt.Errorf("http %s: %w", h.url, err)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, actors.Retry(err)
		}
		return nil, actors.Unavailable(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, max(keep, maxReason)))
	// Drain a little more so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return body, nil
	}
	err = fmt.Errorf("http %s: %s%s", h.url, resp.Status, suffix(responseReason(body[:min(len(body), maxReason)])))
	switch {
	case code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests:
		// The endpoint says it cannot take records now, perhaps for how long.
		return nil, actors.UnavailableFor(err, retryAfter(resp.Header.Get("Retry-After"), time.Now()))
	case code >= 500:
		return nil, actors.Retry(err)
	}
	return nil, actors.Permanent(err)
}

// responseReason is the start of a response body on one line, for errors.
func responseReason(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Join(strings.Fields(s), " ")
	return s
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v can be sent as a header value: no
// control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// retryAfter is the wait a Retry-After header value asks for (RFC 9110:
// seconds, or an HTTP date), zero when it says nothing usable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
