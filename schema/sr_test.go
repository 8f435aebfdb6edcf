package schema_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/actord/actord/broker/registry"
	"github.com/actord/actord/schema"
)

const (
	srOrderV1  = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"total","type":"double"}]}`
	srOrderV2  = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"total","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}`
	srOrderBad = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"total","type":"double"},{"name":"note","type":"string"}]}`
)

// counted serves h over real HTTP, counting requests; fail, when set,
// answers a request instead of h (return true).
type counted struct {
	*httptest.Server
	n    atomic.Int64
	fail atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func serve(t *testing.T, h http.Handler) *counted {
	t.Helper()
	c := &counted{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		if f := c.fail.Load(); f != nil && (*f)(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// embedded is actord's embedded registry served over HTTP for t.
func embedded(t *testing.T) *counted {
	t.Helper()
	reg, err := registry.New("")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, reg)
}

func newClient(t *testing.T, cfg schema.RegistryConfig) *schema.RegistryClient {
	t.Helper()
	c, err := schema.NewRegistryClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// A producer registers once per subject and schema; a consumer fetches an
// id once however many records and goroutines ask for it; an unknown id
// is ErrUnknownSchema, permanent.
func TestRegistryClientRegistersAndFetchesOnce(t *testing.T) {
	t.Parallel()
	srv := embedded(t)
	c := tctx(t)
	prod := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}})
	v1 := schema.MustParse(srOrderV1)
	id, err := prod.Register(c, "orders-value", v1)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if again, err := prod.Register(c, "orders-value", v1); err != nil || again != id {
			t.Fatalf("register again: %d, %v", again, err)
		}
	}
	if n := srv.n.Load(); n != 1 {
		t.Errorf("100 registrations of one schema sent %d requests, want 1", n)
	}

	cons := newClient(t, schema.RegistryConfig{URLs: []string{strings.TrimPrefix(srv.URL, "http://")}})
	before := srv.n.Load()
	var wg sync.WaitGroup
	for range 10_000 {
		wg.Go(func() {
			s, err := cons.ByID(c, id)
			if err != nil || s.Fingerprint() != v1.Fingerprint() {
				t.Errorf("ByID(%d): %v, %v", id, s, err)
			}
		})
	}
	wg.Wait()
	if n := srv.n.Load() - before; n != 1 {
		t.Errorf("10,000 lookups of one id sent %d requests, want 1", n)
	}
	if _, ok := cons.ByFingerprint(v1.Fingerprint()); !ok {
		t.Error("a fetched schema is not known by fingerprint")
	}
	_, err = cons.ByID(c, 999)
	if !errors.Is(err, schema.ErrUnknownSchema) || schema.Transient(err) {
		t.Errorf("unknown id: %v (transient %v), want ErrUnknownSchema, permanent", err, schema.Transient(err))
	}
}

func TestSubjectStrategies(t *testing.T) {
	t.Parallel()
	s := schema.MustParse(srOrderV1)
	for _, tc := range []struct {
		name     string
		key      bool
		want     string
		strategy schema.SubjectStrategy
	}{
		{"topic", false, "orders-value", schema.TopicName},
		{"topic", true, "orders-key", schema.TopicName},
		{"record", false, "shop.Order", schema.RecordName},
		{"topic_record", false, "orders-shop.Order", schema.TopicRecordName},
		{"TopicRecordNameStrategy", false, "orders-shop.Order", schema.TopicRecordName},
	} {
		st, err := schema.ParseSubjectStrategy(tc.name)
		if err != nil || st != tc.strategy {
			t.Errorf("ParseSubjectStrategy(%q) = %v, %v", tc.name, st, err)
		}
		got, err := st.Subject("orders", s, tc.key)
		if err != nil || got != tc.want {
			t.Errorf("%s: subject %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := schema.RecordName.Subject("orders", schema.MustParse(`"string"`), false); err == nil || !strings.Contains(err.Error(), "record, enum or fixed") {
		t.Errorf("record strategy with a string schema: %v", err)
	}
	if _, err := schema.ParseSubjectStrategy("by-topic"); err == nil || !strings.Contains(err.Error(), "topic, record or topic_record") {
		t.Errorf("bad strategy: %v", err)
	}
	// The client names subjects with its strategy; SubjectFor uses it.
	cl := newClient(t, schema.RegistryConfig{URLs: []string{"http://127.0.0.1:1"}, Strategy: schema.RecordName})
	if got, _ := schema.SubjectFor(cl, "orders", s, false); got != "shop.Order" {
		t.Errorf("SubjectFor(client with record strategy) = %q", got)
	}
	if got, _ := schema.SubjectFor(schema.NewMemoryRegistry(), "orders", s, false); got != "orders-value" {
		t.Errorf("SubjectFor(memory registry) = %q", got)
	}
}

// With auto-register off, a producer uses what is registered and never
// registers: the latest version or a fixed id must be its schema.
func TestProducerModesWithoutAutoRegister(t *testing.T) {
	t.Parallel()
	srv := embedded(t)
	c := tctx(t)
	v1, v2 := schema.MustParse(srOrderV1), schema.MustParse(srOrderV2)
	latest := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Mode: schema.UseLatest})
	_, err := latest.Register(c, "orders-value", v1)
	var re *schema.RefusedError
	if !errors.As(err, &re) || re.Subject != "orders-value" || !strings.Contains(err.Error(), "auto-register is off") || schema.Transient(err) {
		t.Fatalf("latest mode, subject not registered: %v", err)
	}
	admin := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}})
	id1, err := admin.Register(c, "orders-value", v1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := latest.Register(c, "orders-value", v1); err != nil || got != id1 {
		t.Fatalf("latest mode after registration: %d, %v; want %d", got, err, id1)
	}
	id2, err := admin.Register(c, "orders-value", v2)
	if err != nil {
		t.Fatal(err)
	}
	fresh := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Mode: schema.UseLatest})
	if _, err := fresh.Register(c, "orders-value", v1); !errors.As(err, &re) || !strings.Contains(err.Error(), "latest version 2") {
		t.Errorf("latest mode, v1 no longer latest: %v", err)
	}
	fixed := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Mode: schema.UseID, ID: id1})
	if got, err := fixed.Register(c, "orders-value", v1); err != nil || got != id1 {
		t.Errorf("id mode: %d, %v", got, err)
	}
	if _, err := fixed.Register(c, "orders-value", v2); !errors.As(err, &re) || !strings.Contains(err.Error(), fmt.Sprint("id ", id1)) {
		t.Errorf("id mode, another schema: %v", err)
	}
	before := srv.n.Load()
	if _, err := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Mode: schema.UseID, ID: id2 + 10}).Register(c, "orders-value", v2); !errors.Is(err, schema.ErrUnknownSchema) {
		t.Errorf("id mode, unknown id: %v", err)
	}
	if srv.n.Load()-before != 1 {
		t.Errorf("id mode sent %d requests, want 1 (no registration)", srv.n.Load()-before)
	}
	if _, err := schema.NewRegistryClient(schema.RegistryConfig{URLs: []string{srv.URL}, Mode: schema.UseID}); err == nil {
		t.Error("id mode without an id: no error")
	}
}

// A schema the registry refuses as incompatible is one permanent error
// naming the subject and the field.
func TestIncompatibleRegistrationIsRefused(t *testing.T) {
	t.Parallel()
	srv := embedded(t)
	c := tctx(t)
	cl := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}})
	if _, err := cl.Register(c, "orders-value", schema.MustParse(srOrderV1)); err != nil {
		t.Fatal(err)
	}
	_, err := cl.Register(c, "orders-value", schema.MustParse(srOrderBad))
	var re *schema.RefusedError
	if !errors.As(err, &re) || re.Status != 409 || schema.Transient(err) {
		t.Fatalf("incompatible schema: %v", err)
	}
	for _, want := range []string{`"orders-value"`, "Order.note", "no default"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %s", err, want)
		}
	}
}

// A wrong password is one line saying authentication failed, without the
// password; registering is refused at once, a lookup is a RegistryError
// (retried by consumers, never dead-lettered). The config's String hides
// the password.
func TestRegistryBasicAuth(t *testing.T) {
	t.Parallel()
	const user, pass = "svc", "s3cret-pw"
	fake := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))))
	t.Cleanup(fake.Close)
	c := tctx(t)
	good := newClient(t, schema.RegistryConfig{URLs: []string{fake.URL()}, Username: user, Password: pass})
	id, err := good.Register(c, "orders-value", schema.MustParse(srOrderV1))
	if err != nil {
		t.Fatal(err)
	}
	bad := newClient(t, schema.RegistryConfig{URLs: []string{fake.URL()}, Username: user, Password: "wrong-pw", Attempts: 2})
	_, err = bad.Register(c, "orders-value", schema.MustParse(srOrderV1))
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "wrong-pw") || strings.Contains(err.Error(), "\n") || schema.Transient(err) {
		t.Errorf("register with a wrong password: %v", err)
	}
	_, err = bad.ByID(c, id)
	if !schema.Transient(err) || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("lookup with a wrong password: %v (transient %v)", err, schema.Transient(err))
	}
	cfg := bad.Config()
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, "wrong-pw") {
			t.Errorf("config printed with its password: %s", s)
		}
	}
}

// 5xx answers are retried with backoff and succeed when the registry
// recovers; a registry that keeps failing, does not answer in time or
// cannot be reached is a *RegistryError (Transient) within the deadline.
func TestRegistryRetriesAndDeadlines(t *testing.T) {
	t.Parallel()
	srv := embedded(t)
	c := tctx(t)
	var left atomic.Int32
	left.Store(2)
	unavailable := func(w http.ResponseWriter, r *http.Request) bool {
		if left.Add(-1) < 0 {
			return false
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error_code":50003,"message":"Error while forwarding the request to the leader"}`))
		return true
	}
	srv.fail.Store(&unavailable)
	cl := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Backoff: 10 * time.Millisecond})
	if _, err := cl.Register(c, "orders-value", schema.MustParse(srOrderV1)); err != nil {
		t.Fatalf("two 503s then an answer: %v", err)
	}
	if n := srv.n.Load(); n != 3 {
		t.Errorf("requests: %d, want 3", n)
	}

	left.Store(1 << 30)
	cl = newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Backoff: 10 * time.Millisecond, Attempts: 3})
	_, err := cl.ByID(c, 1)
	var rerr *schema.RegistryError
	if !errors.As(err, &rerr) || !schema.Transient(err) || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("always 503: %v", err)
	}

	hang := func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
	srv.fail.Store(&hang)
	cl = newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Timeout: 200 * time.Millisecond, Attempts: 2, Backoff: 10 * time.Millisecond})
	start := time.Now()
	_, err = cl.ByID(c, 1)
	if !schema.Transient(err) || time.Since(start) > 5*time.Second {
		t.Errorf("registry that never answers: %v after %v", err, time.Since(start))
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cl = newClient(t, schema.RegistryConfig{URLs: []string{addr}, Attempts: 2, Backoff: 10 * time.Millisecond})
	_, err = cl.ByID(c, 1)
	if !schema.Transient(err) || !strings.Contains(err.Error(), "lookup id 1") {
		t.Errorf("registry down: %v", err)
	}
}

// An https registry is trusted through the CA file; without it the
// certificate is not; an unusable CA file is refused up front.
func TestRegistryTLSWithCAFile(t *testing.T) {
	t.Parallel()
	reg, err := registry.New("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(reg)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := tctx(t)
	cl := newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, CAFile: ca})
	if _, err := cl.Register(c, "orders-value", schema.MustParse(srOrderV1)); err != nil {
		t.Fatalf("https with the CA file: %v", err)
	}
	cl = newClient(t, schema.RegistryConfig{URLs: []string{srv.URL}, Attempts: 1})
	if _, err := cl.Register(c, "orders-value", schema.MustParse(srOrderV1)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("https without the CA file: %v", err)
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.pem"), os.Args[0]} {
		if _, err := schema.NewRegistryClient(schema.RegistryConfig{URLs: []string{srv.URL}, CAFile: bad}); err == nil || !strings.Contains(err.Error(), "CA file") {
			t.Errorf("CA file %s: %v", bad, err)
		}
	}
	for _, u := range []string{"http://", "http://user:pw@host:8081"} {
		if _, err := schema.NewRegistryClient(schema.RegistryConfig{URLs: []string{u}}); err == nil || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("URL %q: %v", u, err)
		}
	}
}
