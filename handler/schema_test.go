package handler_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/schema"
)

var (
	orderV1 = schema.MustParse(`{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`)
	orderV2 = schema.MustParse(`{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"channel","type":"string","default":"web"}]}`)
)

// AvroJSON decodes single-object and Confluent-framed records to JSON,
// resolved into the reader schema; what it cannot read is permanent; an
// http handler wrapped in Decoded POSTs the JSON.
func TestAvroJSONForHandlers(t *testing.T) {
	reg := schema.NewMemoryRegistry()
	ctx := context.Background()
	v := map[string]any{"id": int64(7), "ts": "2025-06-01T12:00:00Z"}
	single, err := schema.NewSerde(orderV1).Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	framed, err := schema.NewSerde(orderV1, schema.WithRegistry(reg, "orders-value")).Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := handler.NewAvroJSON(orderV2, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":7,"ts":"2025-06-01T12:00:00Z","channel":"web"}`
	var out []byte
	if err := dec.DecodeContext(ctx, framed, &out); err != nil || string(out) != want {
		t.Errorf("confluent: %s, %v; want %s", out, err, want)
	}
	// Single-object with the writer known to the registry by fingerprint.
	if err := dec.Decode(single, &out); err != nil || string(out) != want {
		t.Errorf("single-object: %s, %v", out, err)
	}
	fileOnly, _ := handler.NewAvroJSON(orderV1, nil, nil)
	if err := fileOnly.Decode(framed, &out); !errors.Is(err, schema.ErrUnknownSchema) || schema.Transient(err) {
		t.Errorf("confluent without registry: %v", err)
	}
	if err := fileOnly.Decode([]byte("plain text"), &out); !errors.Is(err, schema.ErrMalformed) {
		t.Errorf("not avro: %v", err)
	}
	if _, err := handler.NewAvroJSON(nil, nil, nil); err == nil {
		t.Error("neither reader nor registry: no error")
	}

	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	fn := handler.Decoded(newHandler(t, config.Handler{HTTP: &config.HTTPHandler{URL: srv.URL}}, nil))
	m := message()
	m.Raw = framed
	if err := dec.Decode(framed, &m.Value); err != nil {
		t.Fatal(err)
	}
	if err := fn(ctx, m); err != nil {
		t.Fatal(err)
	}
	if string(body) != want {
		t.Errorf("http body %s, want %s", body, want)
	}
}

// AvroReencode reads a record written with v1 and writes it with the
// reader (v2) under the target's subject, logical types included.
func TestAvroReencodeForForward(t *testing.T) {
	reg := schema.NewMemoryRegistry()
	framed, err := schema.NewSerde(orderV1, schema.WithRegistry(reg, "orders-value")).Marshal(map[string]any{"id": int64(7), "ts": "2025-06-01T12:00:00.123Z"})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := handler.NewAvroReencode(orderV2, reg, "orders-v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := dec.DecodeContext(context.Background(), framed, &out); err != nil {
		t.Fatal(err)
	}
	h, body, err := schema.ReadHeader(out)
	if err != nil || h.Framing != schema.Confluent || len(reg.Versions("orders-v2-value")) != 1 || reg.Versions("orders-v2-value")[0] != h.ID {
		t.Fatalf("re-encoded header %+v, %v; orders-v2-value ids %v", h, err, reg.Versions("orders-v2-value"))
	}
	if j, err := orderV2.DecodeJSON(body); err != nil || string(j) != `{"id":7,"ts":"2025-06-01T12:00:00.123Z","channel":"web"}` {
		t.Errorf("re-encoded value %s, %v", j, err)
	}
	if _, err := handler.NewAvroReencode(nil, reg, "x", nil); err == nil {
		t.Error("no reader schema: no error")
	}
}
