package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/actord/actord/broker/registry"
	"github.com/actord/actord/schema"
)

const (
	orderV1 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"total","type":"double"}]}`
	// orderV2 adds a field with a default: backward compatible.
	orderV2 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"total","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}`
	// orderBad adds a field without a default: not backward compatible.
	orderBad = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"total","type":"double"},{"name":"note","type":"string"}]}`
)

// start runs an embedded registry on a free port, closed when t ends.
func start(t *testing.T, dataDir string) *registry.Server {
	t.Helper()
	s, err := registry.Start(registry.Config{Listen: "127.0.0.1:0", DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// registryStart is start for benchmarks.
func registryStart(tb testing.TB) (*registry.Server, error) {
	s, err := registry.Start(registry.Config{Listen: "127.0.0.1:0"})
	if err == nil {
		tb.Cleanup(func() { s.Close() })
	}
	return s, err
}

func client(t *testing.T, url string) *sr.Client {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(url), sr.HTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// An incompatible registration is refused with 409 naming the field, as
// the Confluent registry refuses it (srfake alone accepts it); a
// compatible one becomes version 2; NONE lets anything through; the
// compatibility endpoint gives the same verdict.
func TestCompatibilityIsEnforced(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	cl := client(t, s.URL())
	c := ctx(t)
	id1, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderV1}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderBad}, -1, -1)
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
		t.Fatalf("incompatible registration: got %v, want 409", err)
	}
	if !strings.Contains(re.Message, "Order.note") || !strings.Contains(re.Message, "no default") || !strings.Contains(re.Message, "BACKWARD") {
		t.Errorf("409 message does not name the field and level: %q", re.Message)
	}
	res, err := cl.CheckCompatibility(c, "orders-value", -1, sr.Schema{Schema: orderBad})
	if err != nil || res.Is {
		t.Errorf("compatibility check of the bad schema: %+v, %v; want incompatible", res, err)
	}
	res, err = cl.CheckCompatibility(c, "orders-value", -1, sr.Schema{Schema: orderV2})
	if err != nil || !res.Is {
		t.Errorf("compatibility check of v2: %+v, %v; want compatible", res, err)
	}
	id2, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderV2}, -1, -1)
	if err != nil || id2 == id1 {
		t.Fatalf("compatible v2: id %d, %v (v1 id %d)", id2, err, id1)
	}
	again, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderV1}, -1, -1)
	if err != nil || again != id1 {
		t.Errorf("registering v1 again: id %d, %v; want %d", again, err, id1)
	}
	if r := cl.SetCompatibility(c, sr.SetCompatibility{Level: sr.CompatNone}, "orders-value"); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if _, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderBad}, -1, -1); err != nil {
		t.Errorf("NONE: the schema is still refused: %v", err)
	}
	// FORWARD_TRANSITIVE on a new subject: removing a field without a
	// default is refused against every version.
	sub := "fw-value"
	if r := cl.SetCompatibility(c, sr.SetCompatibility{Level: sr.CompatForwardTransitive}, sub); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	for _, text := range []string{orderBad} {
		if _, err := cl.RegisterSchema(c, sub, sr.Schema{Schema: text}, -1, -1); err != nil {
			t.Fatal(err)
		}
	}
	_, err = cl.RegisterSchema(c, sub, sr.Schema{Schema: orderV1}, -1, -1)
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict || !strings.Contains(re.Message, "Order.note") {
		t.Errorf("forward transitive, field without default removed: %v, want 409 naming Order.note", err)
	}
}

// What is not an Avro schema actord can check is refused with 422.
func TestRefusesWhatItCannotCheck(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	cl := client(t, s.URL())
	for name, body := range map[string]sr.Schema{
		"bad avro":   {Schema: `{"type":"record","name":"X"}`},
		"protobuf":   {Schema: `syntax = "proto3";`, Type: sr.TypeProtobuf},
		"references": {Schema: orderV1, References: []sr.SchemaReference{{Name: "a", Subject: "b", Version: 1}}},
	} {
		_, err := cl.RegisterSchema(ctx(t), "x-value", body, -1, -1)
		var re *sr.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusUnprocessableEntity || re.ErrorCode != 42201 {
			t.Errorf("%s: %v, want 422 / 42201", name, err)
		}
	}
}

// With a data dir, ids, versions and levels survive a restart, and a new
// schema after it gets the next id; a journal whose last line was cut off
// by a crash loses only that unanswered line.
func TestSchemasSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := start(t, dir)
	cl := client(t, s.URL())
	c := ctx(t)
	id1, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderV1}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	idOther, err := cl.RegisterSchema(c, "shop.Order", sr.Schema{Schema: orderV2}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	if r := cl.SetCompatibility(c, sr.SetCompatibility{Level: sr.CompatFull}, "orders-value"); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	// Registering a schema again (as every producer start does) is not
	// journaled: the journal holds the 2 registrations and the level.
	for range 5 {
		if again, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderV1}, -1, -1); err != nil || again != id1 {
			t.Fatalf("register again: %d, %v", again, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, registry.JournalFile)); err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("journal holds %d lines, want 3: %v", strings.Count(string(b), "\n"), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of a journal write.
	f, err := openAppend(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"method":"POST","path":"/subjects/cut`)
	f.Close()

	s2 := start(t, dir)
	cl = client(t, s2.URL())
	got, err := cl.SchemaByID(c, id1)
	if err != nil || schema.MustParse(got.Schema).Canonical() != schema.MustParse(orderV1).Canonical() {
		t.Fatalf("id %d after restart: %v, %v", id1, got.Schema, err)
	}
	ss, err := cl.SchemaByVersion(c, "shop.Order", -1)
	if err != nil || ss.ID != idOther || ss.Version != 1 {
		t.Fatalf("shop.Order latest after restart: %+v, %v", ss, err)
	}
	lv := cl.Compatibility(c, "orders-value")
	if lv[0].Err != nil || lv[0].Level != sr.CompatFull {
		t.Errorf("orders-value level after restart: %+v", lv[0])
	}
	// FULL: v2 (a field with a default) is compatible both ways.
	id2, err := cl.RegisterSchema(c, "orders-value", sr.Schema{Schema: orderV2}, -1, -1)
	if err != nil || id2 != idOther {
		t.Errorf("v2 under orders-value: id %d, %v; want the id it has under shop.Order, %d", id2, err, idOther)
	}
	id3, err := cl.RegisterSchema(c, "other-value", sr.Schema{Schema: `"string"`}, -1, -1)
	if err != nil || id3 != idOther+1 {
		t.Errorf("a new schema after restart: id %d, %v; want %d", id3, err, idOther+1)
	}
}

// A busy port is one error naming the address.
func TestBusyPort(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	_, err := registry.Start(registry.Config{Listen: s.Addr()})
	if err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("second registry on %s: %v", s.Addr(), err)
	}
}

// Python's and Confluent's clients post {"schema": "..."} and read
// {"id": N}; the raw answer is what they parse.
func TestRawRegisterAndFetch(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	body, _ := json.Marshal(map[string]string{"schema": orderV1})
	resp, err := http.Post(s.URL()+"/subjects/raw-value/versions", "application/vnd.schemaregistry.v1+json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var reg struct{ ID int }
	if resp.StatusCode != 200 || json.Unmarshal(b, &reg) != nil || reg.ID < 1 {
		t.Fatalf("register: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(s.URL() + "/schemas/ids/" + itoa(reg.ID))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct{ Schema string }
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil || schema.MustParse(got.Schema).Fingerprint() != schema.MustParse(orderV1).Fingerprint() {
		t.Fatalf("fetch: %d %s", resp.StatusCode, b)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func openAppend(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, registry.JournalFile), os.O_WRONLY|os.O_APPEND, 0)
}

// A damaged journal line is one error at start naming the file and the
// line, never a panic.
func TestDamagedJournalIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, registry.JournalFile), []byte(`{"method":"GET","path":"::bad"}`+"\n"), 0o644)
	_, err := registry.Start(registry.Config{Listen: "127.0.0.1:0", DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), registry.JournalFile+" line 1") {
		t.Fatalf("damaged journal: %v", err)
	}
}
