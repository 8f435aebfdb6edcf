package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyFunc reports why the process is not ready, or nil when it is.
type ReadyFunc func(ctx context.Context) error

// Server serves /metrics, /healthz (the process is serving) and /readyz
// (ready returns nil: connected to the broker, groups joined).
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Serve listens on addr and serves in the background. Bind to loopback
// unless the endpoint must be reachable from elsewhere.
func Serve(addr string, m *Metrics, ready ReadyFunc) (*Server, error) {
	return ServeWith(addr, m, ready, nil)
}

// ServeWith is Serve with root answering every path that is not
// /metrics, /healthz or /readyz (the status console: its page at / and
// its API under /api/); a nil root leaves them 404.
func ServeWith(addr string, m *Metrics, ready ReadyFunc, root http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: cannot listen on %s: %w", addr, unwrap(err))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if root != nil {
		mux.Handle("/", root)
	}
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func unwrap(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
