// Package registry is the embedded Schema Registry: a Confluent-compatible
// REST API served beside the embedded broker (`actord broker
// --schema-registry`, broker.schema_registry.listen), so that a fresh
// machine has a registry for Avro with nothing installed. It backs tests
// and trying things out; production runs Confluent Schema Registry or a
// compatible one.
//
// The REST API is franz-go's srfake (subjects, versions, ids, config,
// mode). actord adds what srfake leaves out:
//
//   - Compatibility: a registration is checked against the subject's
//     earlier versions with schema.Compatible under the subject's level
//     (GET/PUT /config, BACKWARD by default; *_TRANSITIVE against every
//     version, NONE not at all) and refused with 409, naming the field, as
//     the Confluent registry refuses it. POST /compatibility/... answers
//     with the same check.
//   - Avro only: a schema that does not parse, another schema type, or a
//     schema with references is refused with 422.
//   - Durability: with a data dir, every change that succeeded is
//     appended to a journal (schema-registry.log, one JSON line each,
//     synced before the answer) and replayed at start, so ids, versions
//     and levels survive a restart, a crash included. The Confluent
//     registry keeps the same kind of log in its _schemas topic.
package registry

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/actord/actord/schema"
)

// JournalFile is the name of the journal in the data dir.
const JournalFile = "schema-registry.log"

// maxBody bounds a request body, as srfake does.
const maxBody = 1 << 20

// Config says how to run the embedded registry.
type Config struct {
	// Listen is host:port; port 0 picks a free port. Default
	// "127.0.0.1:8081".
	Listen string
	// DataDir keeps the registry's journal when set (the broker's data
	// dir does); empty keeps schemas in memory.
	DataDir string
}

// Server is a running embedded registry.
type Server struct {
	reg     *srfake.Registry
	inner   http.Handler
	ln      net.Listener
	srv     *http.Server
	served  chan struct{}
	mu      sync.Mutex // serializes changes: check, apply, journal
	journal *os.File
	reqs    atomic.Int64
	once    sync.Once
}

// Start replays the data dir's journal, binds the listen address and
// serves. It fails with one clear error when the address is in use, the
// data dir is unusable or its journal cannot be replayed.
func Start(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8081"
	}
	s, err := New(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.closeJournal()
		return nil, fmt.Errorf("embedded schema registry: cannot listen on %s: %w", cfg.Listen, unwrapOpErr(err))
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// New returns a registry that is not served: its ServeHTTP is the API, for
// a caller's own server. With dataDir it replays and keeps the journal
// there.
func New(dataDir string) (*Server, error) {
	reg := srfake.NewRegistry(srfake.WithGlobalCompat(sr.CompatBackward))
	s := &Server{reg: reg, inner: reg.Handler()}
	if dataDir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded schema registry: data dir %s: %w", dataDir, unwrapPathErr(err))
	}
	path := filepath.Join(dataDir, JournalFile)
	if err := s.replay(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded schema registry: journal: %w", err)
	}
	s.journal = f
	return s, nil
}

// Addr is the host:port the registry accepts connections on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the registry's base URL, http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Requests is how many HTTP requests the registry has answered, for tests
// and benchmarks that count lookups.
func (s *Server) Requests() int64 { return s.reqs.Load() }

// Close stops serving (waiting up to 5s for requests in flight) and
// closes the journal. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if e := s.srv.Shutdown(ctx); e != nil {
				s.srv.Close()
			}
			<-s.served
		}
		err = s.closeJournal()
	})
	return err
}

func (s *Server) closeJournal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journal == nil {
		return nil
	}
	err := s.journal.Close()
	s.journal = nil
	return err
}

// entry is one journal line: a change that succeeded, as it was asked.
type entry struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	Body   string `json:"body,omitempty"`
}

// replay applies the journal's changes in order. srfake gives ids and
// versions in the order of registration, so the same changes give the
// same ids. A truncated last line (a crash mid-write, never answered) is
// cut off; any other line that does not apply is an error naming it.
func (s *Server) replay(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded schema registry: journal: %w", err)
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	var good int64
	for line := 1; ; line++ {
		b, err := rd.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(b) > 0 { // unterminated: the write was cut off
				return os.Truncate(path, good)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("embedded schema registry: journal %s: %w", path, err)
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("embedded schema registry: journal %s line %d: %v", path, line, err)
		}
		rec := s.apply(e)
		if rec.Code >= 300 {
			return fmt.Errorf("embedded schema registry: journal %s line %d (%s %s) no longer applies: %d %s",
				path, line, e.Method, e.Path, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		good += int64(len(b))
	}
}

// apply runs a change through srfake.
func (s *Server) apply(e entry) *httptest.ResponseRecorder {
	target := e.Path
	if e.Query != "" {
		target += "?" + e.Query
	}
	rec := httptest.NewRecorder()
	req, err := http.NewRequest(e.Method, target, strings.NewReader(e.Body))
	if err != nil || !strings.HasPrefix(e.Path, "/") {
		// A journal line that is not a request (a damaged file).
		rec.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(rec.Body, "not a request: %s %q", e.Method, target)
		return rec
	}
	req.RequestURI = target
	s.inner.ServeHTTP(rec, req)
	return rec
}

// ServeHTTP serves the REST API: reads as srfake answers them; changes
// one at a time, registrations checked for compatibility first, and each
// change that succeeded journaled before it is answered.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.reqs.Add(1)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		s.inner.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, 413, "request body over 1 MiB or unreadable: "+err.Error())
		return
	}
	segs := segments(r.URL)
	// POST /compatibility/subjects/{subject}/versions[/{version}]
	if r.Method == http.MethodPost && len(segs) >= 4 && segs[0] == "compatibility" && segs[1] == "subjects" && segs[3] == "versions" {
		version := "latest"
		if len(segs) == 5 {
			version = segs[4]
		} else if len(segs) != 4 {
			writeError(w, http.StatusNotFound, 404, "not found")
			return
		}
		s.compatibility(w, segs[2], version, body, len(segs) == 4)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// POST /subjects/{subject}/versions registers: check it first.
	register := r.Method == http.MethodPost && len(segs) == 3 && segs[0] == "subjects" && segs[2] == "versions"
	var before string
	if register {
		if status, code, msg := s.checkRegistration(segs[1], body); status != 0 {
			writeError(w, status, code, msg)
			return
		}
		before = s.versions(segs[1])
	}
	e := entry{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: string(body)}
	rec := s.apply(e)
	// A schema registered before changes nothing (every producer start
	// registers its schema): only a new version is journaled.
	changed := !readOnly(r.Method, segs) && (!register || s.versions(segs[1]) != before)
	if rec.Code < 300 && s.journal != nil && changed {
		if err := s.write(e); err != nil {
			writeError(w, http.StatusInternalServerError, sr.ErrStoreError.Code,
				"the change is applied in memory but could not be journaled, so it would not survive a restart: "+err.Error())
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// versions is subject's version list as srfake answers it, to tell
// whether a registration added one.
func (s *Server) versions(subject string) string {
	return s.apply(entry{Method: http.MethodGet, Path: "/subjects/" + url.PathEscape(subject) + "/versions"}).Body.String()
}

// readOnly reports the POSTs that change nothing: a lookup of a schema
// under a subject (POST /subjects/{subject}).
func readOnly(method string, segs []string) bool {
	return method == http.MethodPost && len(segs) == 2 && segs[0] == "subjects"
}

func (s *Server) write(e entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := s.journal.Write(append(b, '\n')); err != nil {
		return err
	}
	return s.journal.Sync()
}

// segments splits the request path into unescaped segments, after an
// optional /contexts/{context} prefix (srfake's default context only).
func segments(u *url.URL) []string {
	raw := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	out := make([]string, 0, len(raw))
	for _, p := range raw {
		v, err := url.PathUnescape(p)
		if err != nil {
			v = p
		}
		out = append(out, v)
	}
	return out
}

// checkRegistration decides whether body may be registered under subject:
// 0 when it may, else the status, error code and message to refuse with.
func (s *Server) checkRegistration(subject string, body []byte) (int, int, string) {
	next, status, code, msg := parseBody(body)
	if status != 0 {
		return status, code, msg
	}
	level := s.level(subject)
	olds := s.against(subject, level, "latest", true)
	if reasons := incompatible(olds, next, level); len(reasons) > 0 {
		return http.StatusConflict, 409, fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q (%s): %s",
			subject, level, strings.Join(reasons, "; "))
	}
	return 0, 0, ""
}

// compatibility answers POST /compatibility/subjects/{subject}/versions/{version}
// as the Confluent registry does: {"is_compatible": bool, "messages": [...]}.
func (s *Server) compatibility(w http.ResponseWriter, subject, version string, body []byte, all bool) {
	next, status, code, msg := parseBody(body)
	if status != 0 {
		writeError(w, status, code, msg)
		return
	}
	level := s.level(subject)
	var olds []versioned
	if all {
		olds = s.against(subject, level, "", false)
	} else {
		olds = s.against(subject, level, version, false)
		if len(olds) == 0 {
			writeError(w, http.StatusNotFound, 40402, fmt.Sprintf("Version %s not found for subject %q", version, subject))
			return
		}
	}
	reasons := incompatible(olds, next, level)
	respondJSON(w, http.StatusOK, map[string]any{"is_compatible": len(reasons) == 0, "messages": nonNil(reasons)})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parseBody reads a registration's schema; a refusal is a 422 as the
// Confluent registry's (42201 invalid schema).
func parseBody(body []byte) (*schema.Schema, int, int, string) {
	var req sr.Schema
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, http.StatusUnprocessableEntity, 42201, "Invalid schema: request body is not a JSON schema object: " + err.Error()
	}
	if req.Type != 0 && req.Type != sr.TypeAvro {
		return nil, http.StatusUnprocessableEntity, 42201, fmt.Sprintf("Invalid schema: the embedded registry serves Avro schemas only, not %s", req.Type)
	}
	if len(req.References) > 0 {
		return nil, http.StatusUnprocessableEntity, 42201, "Invalid schema: the embedded registry does not support schema references"
	}
	next, err := schema.Parse(req.Schema)
	if err != nil {
		return nil, http.StatusUnprocessableEntity, 42201, "Invalid schema: " + err.Error()
	}
	return next, 0, 0, ""
}

// level returns subject's compatibility level, the global one when it has
// none of its own.
func (s *Server) level(subject string) sr.CompatibilityLevel {
	rec := s.apply(entry{Method: http.MethodGet, Path: "/config/" + url.PathEscape(subject), Query: "defaultToGlobal=true"})
	var out struct {
		Level sr.CompatibilityLevel `json:"compatibilityLevel"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Level == 0 {
		return sr.CompatBackward
	}
	return out.Level
}

type versioned struct {
	version int
	s       *schema.Schema
}

// against returns the versions of subject a new schema is checked
// against: every version for a transitive level or when version is "",
// else the given one ("latest" or a number). byLevel applies the level's
// choice of latest or all.
func (s *Server) against(subject string, level sr.CompatibilityLevel, version string, byLevel bool) []versioned {
	rec := s.apply(entry{Method: http.MethodGet, Path: "/subjects/" + url.PathEscape(subject) + "/versions"})
	var versions []int
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &versions) != nil || len(versions) == 0 {
		return nil
	}
	sort.Ints(versions)
	transitive := level == sr.CompatBackwardTransitive || level == sr.CompatForwardTransitive || level == sr.CompatFullTransitive
	var pick []int
	switch {
	case version == "" || (byLevel && transitive):
		pick = versions
	case version == "latest":
		pick = versions[len(versions)-1:]
	default:
		n, err := strconv.Atoi(version)
		if err != nil {
			return nil
		}
		pick = []int{n}
	}
	var out []versioned
	for _, v := range pick {
		ss, ok := s.reg.GetSchema(subject, v)
		if !ok {
			continue
		}
		old, err := schema.Parse(ss.Schema.Schema)
		if err != nil {
			continue // not Avro (seeded from outside): nothing to compare
		}
		out = append(out, versioned{v, old})
	}
	return out
}

// incompatible lists why next cannot follow olds under level, each reason
// naming the version and the field.
func incompatible(olds []versioned, next *schema.Schema, level sr.CompatibilityLevel) []string {
	var mode schema.Mode
	switch level {
	case sr.CompatBackward, sr.CompatBackwardTransitive:
		mode = schema.Backward
	case sr.CompatForward, sr.CompatForwardTransitive:
		mode = schema.Forward
	case sr.CompatFull, sr.CompatFullTransitive:
		mode = schema.Full
	default: // NONE
		return nil
	}
	var reasons []string
	for _, o := range olds {
		for _, r := range schema.Compatible(o.s, next, mode) {
			reasons = append(reasons, fmt.Sprintf("version %d: %s", o.version, r))
		}
	}
	return reasons
}

func respondJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	respondJSON(w, status, map[string]any{"error_code": code, "message": msg})
}

func unwrapOpErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err
		}
		return op.Err
	}
	return err
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
