package handler_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/config"
	"github.com/actord/actord/supervisor"
)

// captured is the last request a test server saw.
type captured struct {
	mu     sync.Mutex
	method string
	path   string
	header http.Header
	body   string
}

func (c *captured) get() captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return captured{method: c.method, path: c.path, header: c.header, body: c.body}
}

// recordingServer answers every request with status and keeps the last
// request.
func recordingServer(t *testing.T, status int) (*httptest.Server, *captured) {
	t.Helper()
	c := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.method, c.path, c.header, c.body = r.Method, r.URL.Path, r.Header.Clone(), string(b)
		c.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, "status "+strconv.Itoa(status)+"\nfrom the test server")
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

func TestHTTPPostsValueWithActordHeaders(t *testing.T) {
	srv, got := recordingServer(t, http.StatusOK)
	fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL + "/hook"}}, nil)
	m := message()
	m.Attempt = 2
	m.Headers = append(m.Headers, kgo.RecordHeader{Key: "dup", Value: []byte("1")}, kgo.RecordHeader{Key: "dup", Value: []byte("2")})
	if err := fn(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	req := got.get()
	if req.method != http.MethodPost || req.path != "/hook" {
		t.Errorf("request %s %s, want POST /hook", req.method, req.path)
	}
	if req.body != `{"id":1}` {
		t.Errorf("body %q, want the record value", req.body)
	}
	for name, want := range map[string][]string{
		"Content-Type":            {"application/octet-stream"},
		"X-Actord-Topic":          {"orders"},
		"X-Actord-Partition":      {"2"},
		"X-Actord-Offset":         {"42"},
		"X-Actord-Key":            {"customer-7"},
		"X-Actord-Attempt":        {"2"},
		"X-Actord-Header-Trace":   {"abc"},
		"X-Actord-Header-Source":  {"cli"},
		"X-Actord-Header-Dup":     {"1", "2"},
		"X-Actord-Header-Missing": nil,
	} {
		if v := req.header.Values(name); !reflect.DeepEqual(v, want) {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
}

func TestHTTPContentTypeFromRecordHeader(t *testing.T) {
	srv, got := recordingServer(t, http.StatusNoContent)
	fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL}}, nil)
	m := message()
	m.Key = nil
	m.Headers = []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/json")}}
	if err := fn(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	req := got.get()
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want the record's application/json", ct)
	}
	if v := req.header.Values("X-Actord-Key"); !reflect.DeepEqual(v, []string{""}) {
		t.Errorf("X-Actord-Key of a keyless record = %q, want one empty value", v)
	}
}

func TestHTTPStatuses(t *testing.T) {
	for _, c := range []struct {
		status int
		want   supervisor.Directive
		// unavailable: the downstream's failure, opening the circuit.
		unavailable bool
	}{
		{200, supervisor.Done, false},
		{202, supervisor.Done, false},
		{429, supervisor.Retry, true},
		{500, supervisor.Retry, false},
		{503, supervisor.Retry, true},
		{400, supervisor.Permanent, false},
		{404, supervisor.Permanent, false},
		{302, supervisor.Permanent, false},
	} {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			srv, _ := recordingServer(t, c.status)
			fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL}}, nil)
			err := fn(context.Background(), message())
			if got := supervisor.Decide(err); got != c.want {
				t.Fatalf("status %d: Decide(%v) = %v, want %v", c.status, err, got, c.want)
			}
			if _, got := supervisor.IsUnavailable(err); got != c.unavailable {
				t.Errorf("status %d: unavailable %v, want %v", c.status, got, c.unavailable)
			}
			if err != nil {
				for _, s := range []string{strconv.Itoa(c.status), "from the test server", srv.URL} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			}
		})
	}
}

func TestHTTPNetworkErrorRetries(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: url}}, nil)
	err := fn(context.Background(), message())
	if err == nil || supervisor.Decide(err) != supervisor.Retry {
		t.Fatalf("unreachable endpoint: %v, want a retry", err)
	}
	if _, ok := supervisor.IsUnavailable(err); !ok {
		t.Errorf("unreachable endpoint: %v, want it marked unavailable (the circuit opens)", err)
	}
}

// A 503's Retry-After, in seconds or as a date, is the wait the circuit's
// next probe honours.
func TestHTTPRetryAfter(t *testing.T) {
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"3", 3 * time.Second},
		{"", 0},
		{"soon", 0},
		{time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), time.Hour},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if c.header != "" {
				w.Header().Set("Retry-After", c.header)
			}
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL}}, nil)
		err := fn(context.Background(), message())
		srv.Close()
		got, ok := supervisor.IsUnavailable(err)
		if !ok || got > c.want || got < c.want-2*time.Second {
			t.Errorf("Retry-After %q: unavailable %v for %v, want about %v", c.header, ok, got, c.want)
		}
	}
}

func TestHTTPTimeoutRetries(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL, Timeout: 50 * time.Millisecond}}, nil)
	begun := time.Now()
	err := fn(context.Background(), message())
	if err == nil || supervisor.Decide(err) != supervisor.Retry {
		t.Fatalf("timed-out request: %v, want a retry", err)
	}
	if _, ok := supervisor.IsUnavailable(err); ok {
		t.Errorf("timed-out request: %v marked unavailable, want a plain retry (it may be this record's)", err)
	}
	if d := time.Since(begun); d > 5*time.Second {
		t.Errorf("request took %v, want the 50ms timeout to apply", d)
	}
}

func TestHTTPUnsendableHeaderIsPermanent(t *testing.T) {
	srv, _ := recordingServer(t, http.StatusOK)
	fn := newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL}}, nil)
	for _, h := range []kgo.RecordHeader{
		{Key: "has space", Value: []byte("v")},
		{Key: "ok", Value: []byte("line\nbreak")},
	} {
		m := message()
		m.Headers = []kgo.RecordHeader{h}
		if err := fn(context.Background(), m); supervisor.Decide(err) != supervisor.Permanent {
			t.Errorf("header %q=%q: %v, want permanent", h.Key, h.Value, err)
		}
	}
}
