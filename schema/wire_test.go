package schema

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// ping is a record small enough to encode by hand.
const pingSchema = `{"type":"record","name":"Ping","doc":"a ping",
	"fields":[{"name":"id","type":"long"},{"name":"msg","type":"string"}]}`

type ping struct {
	ID  int64  `avro:"id"`
	Msg string `avro:"msg"`
}

// Computed by hand and with an independent implementation of the
// specification's Rabin algorithm:
//
//	canonical: {"name":"Ping","type":"record","fields":[{"name":"id","type":"long"},{"name":"msg","type":"string"}]}
//	CRC-64-AVRO: 0x6d96132b8f8bbe26
//	body of {id: 1, msg: "hi"}: 02 (zigzag 1) 04 (length 2) 68 69 ("hi")
var (
	pingBody         = []byte{0x02, 0x04, 'h', 'i'}
	pingFingerprint  = uint64(0x6d96132b8f8bbe26)
	pingSingleObject = []byte{0xC3, 0x01, 0x26, 0xbe, 0x8b, 0x8f, 0x2b, 0x13, 0x96, 0x6d, 0x02, 0x04, 'h', 'i'}
	pingConfluent    = []byte{0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x04, 'h', 'i'}
)

func TestAvroGoldenBody(t *testing.T) {
	s := MustParse(pingSchema)
	if s.Canonical() != `{"name":"Ping","type":"record","fields":[{"name":"id","type":"long"},{"name":"msg","type":"string"}]}` {
		t.Fatalf("canonical %s", s.Canonical())
	}
	if s.Fingerprint() != pingFingerprint {
		t.Fatalf("fingerprint %#x, want %#x", s.Fingerprint(), pingFingerprint)
	}
	// goavro computes its own fingerprint; for this schema it must agree.
	c, err := goavro.NewCodec(pingSchema)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rabin != pingFingerprint {
		t.Errorf("goavro's Rabin %#x, want %#x", c.Rabin, pingFingerprint)
	}
	for _, v := range []any{ping{ID: 1, Msg: "hi"}, &ping{ID: 1, Msg: "hi"}, map[string]any{"id": 1, "msg": "hi"}} {
		got, err := s.Encode(v)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", v, err)
		}
		if !bytes.Equal(got, pingBody) {
			t.Errorf("Encode(%#v) = % x, want % x", v, got, pingBody)
		}
	}
}

func TestAvroGoldenSingleObject(t *testing.T) {
	s := MustParse(pingSchema)
	sd := NewSerde(s)
	if sd.Framing() != SingleObject {
		t.Fatalf("framing %v", sd.Framing())
	}
	got, err := sd.Marshal(ping{ID: 1, Msg: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pingSingleObject) {
		t.Errorf("single-object = % x\n                want % x", got, pingSingleObject)
	}
	// goavro's own single-object encoder writes the same bytes.
	c, _ := goavro.NewCodec(pingSchema)
	if theirs, err := c.SingleFromNative(nil, map[string]any{"id": int64(1), "msg": "hi"}); err != nil || !bytes.Equal(theirs, pingSingleObject) {
		t.Errorf("goavro single-object = % x (%v), want % x", theirs, err, pingSingleObject)
	}
	h, body, err := ReadHeader(got)
	if err != nil || h.Framing != SingleObject || h.Fingerprint != pingFingerprint || !bytes.Equal(body, pingBody) {
		t.Errorf("ReadHeader = %+v, % x, %v", h, body, err)
	}
	var back ping
	if err := sd.Unmarshal(got, &back); err != nil || back != (ping{ID: 1, Msg: "hi"}) {
		t.Errorf("Unmarshal = %+v, %v", back, err)
	}
}

func TestAvroGoldenConfluent(t *testing.T) {
	s := MustParse(pingSchema)
	reg := NewMemoryRegistry()
	sd := NewSerde(s, WithRegistry(reg, "pings-value"))
	if sd.Framing() != Confluent {
		t.Fatalf("framing %v", sd.Framing())
	}
	got, err := sd.Marshal(ping{ID: 1, Msg: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pingConfluent) {
		t.Errorf("confluent = % x, want % x", got, pingConfluent)
	}
	h, body, err := ReadHeader(got)
	if err != nil || h.Framing != Confluent || h.ID != 1 || !bytes.Equal(body, pingBody) {
		t.Errorf("ReadHeader = %+v, % x, %v", h, body, err)
	}
	if v := reg.Versions("pings-value"); len(v) != 1 || v[0] != 1 {
		t.Errorf("Versions = %v", v)
	}
	// A reader with only the registry finds the writer by id.
	var back ping
	if err := NewSerde(s, WithRegistry(reg, "pings-value")).Unmarshal(got, &back); err != nil || back.Msg != "hi" {
		t.Errorf("Unmarshal = %+v, %v", back, err)
	}
	// Without a registry a Confluent message has no known writer.
	if err := NewSerde(s).Unmarshal(got, &back); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("Unmarshal without registry: %v, want ErrUnknownSchema", err)
	}
	big := AppendConfluentHeader(nil, 0x01020304)
	if !bytes.Equal(big, []byte{0, 1, 2, 3, 4}) {
		t.Errorf("AppendConfluentHeader = % x", big)
	}
}

func TestAvroReadHeaderErrors(t *testing.T) {
	for _, data := range [][]byte{nil, {0xC3}, {0xC3, 0x01, 1, 2}, {0x00, 1, 2}, {0x7b, '"'}, {0xC3, 0x02}} {
		if _, _, err := ReadHeader(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadHeader(% x) = %v, want ErrMalformed", data, err)
		}
	}
}

func TestAvroMemoryRegistry(t *testing.T) {
	ctx := context.Background()
	reg := NewMemoryRegistry()
	a := MustParse(pingSchema)
	// Same canonical form (only the doc differs): same id.
	a2 := MustParse(`{"type":"record","name":"Ping","fields":[{"name":"id","type":"long"},{"name":"msg","type":"string"}]}`)
	b := MustParse(`{"type":"record","name":"Pong","fields":[]}`)
	idA, err := reg.Register(ctx, "s", a)
	if err != nil {
		t.Fatal(err)
	}
	idA2, _ := reg.Register(ctx, "other", a2)
	idB, _ := reg.Register(ctx, "s", b)
	if idA != 1 || idA2 != 1 || idB != 2 {
		t.Errorf("ids %d %d %d, want 1 1 2", idA, idA2, idB)
	}
	if got, err := reg.ByID(ctx, 2); err != nil || got != b {
		t.Errorf("ByID(2) = %v, %v", got, err)
	}
	if _, err := reg.ByID(ctx, 3); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("ByID(3) = %v, want ErrUnknownSchema", err)
	}
	if got, ok := reg.ByFingerprint(a2.Fingerprint()); !ok || got != a {
		t.Errorf("ByFingerprint = %v, %v", got, ok)
	}
	if _, ok := reg.ByFingerprint(42); ok {
		t.Error("ByFingerprint(42) found a schema")
	}
	if v := reg.Versions("s"); len(v) != 2 {
		t.Errorf("Versions(s) = %v", v)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := reg.Register(cctx, "s", a); !errors.Is(err, context.Canceled) {
		t.Errorf("Register with a cancelled context: %v", err)
	}
	var le [8]byte
	binary.LittleEndian.PutUint64(le[:], a.Fingerprint())
	if !bytes.Equal(AppendSingleObjectHeader(nil, a.Fingerprint())[2:], le[:]) {
		t.Error("single-object header is not little-endian")
	}
}
