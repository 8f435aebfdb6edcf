package schema

import (
	"strings"
	"testing"
	"time"
)

type Inner struct {
	N int `avro:"n"`
}

type fixed4 [4]byte

type embedded struct {
	Promoted string
}

type Mapping struct {
	embedded
	B          bool
	I          int
	I64        int64
	I32        int32
	I16        int16
	U8         uint8
	U32        uint32
	F64        float64
	F32        float32
	S          string
	Raw        []byte
	Fixed      fixed4
	At         time.Time
	Dur        time.Duration
	P          *int
	PT         *time.Time
	List       []string
	Nested     map[string][]Inner
	In         Inner
	InPtr      *Inner
	Skip       string `avro:"-"`
	JSONSkip   string `json:"-"`
	JSONName   string `json:"json_name,omitempty"`
	Tagged     string `avro:"renamed" json:"ignored"`
	HTTPServer string
	OrderID    string
	Added      string `avroDefault:"\"none\"" avroAliases:"old_added,older"`
	Status     Status
	unexported int
}

var _ = Mapping{unexported: 1} // skipped by For: see the golden below

func TestAvroForMapping(t *testing.T) {
	s, err := For[Mapping]()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"record","name":"Mapping","fields":[` +
		`{"name":"promoted","type":"string"},` +
		`{"name":"b","type":"boolean"},` +
		`{"name":"i","type":"long"},` +
		`{"name":"i64","type":"long"},` +
		`{"name":"i32","type":"int"},` +
		`{"name":"i16","type":"int"},` +
		`{"name":"u8","type":"int"},` +
		`{"name":"u32","type":"long"},` +
		`{"name":"f64","type":"double"},` +
		`{"name":"f32","type":"float"},` +
		`{"name":"s","type":"string"},` +
		`{"name":"raw","type":"bytes"},` +
		`{"name":"fixed","type":{"type":"fixed","name":"fixed4","size":4}},` +
		`{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},` +
		`{"name":"dur","type":"long"},` +
		`{"name":"p","type":["null","long"],"default":null},` +
		`{"name":"pt","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},` +
		`{"name":"list","type":{"type":"array","items":"string"}},` +
		`{"name":"nested","type":{"type":"map","values":{"type":"array","items":{"type":"record","name":"Inner","fields":[{"name":"n","type":"long"}]}}}},` +
		`{"name":"in","type":"Inner"},` +
		`{"name":"in_ptr","type":["null","Inner"],"default":null},` +
		`{"name":"json_name","type":"string"},` +
		`{"name":"renamed","type":"string"},` +
		`{"name":"http_server","type":"string"},` +
		`{"name":"order_id","type":"string"},` +
		`{"name":"added","type":"string","default":"none","aliases":["old_added","older"]},` +
		`{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}}]}`
	if s.String() != want {
		t.Errorf("For[Mapping]()\n got %s\nwant %s", s.String(), want)
	}
	again, _ := For[Mapping]()
	if again != s {
		t.Error("For[Mapping]() is not cached")
	}
	if p, _ := For[*Mapping](); p.String() != want {
		t.Error("For[*Mapping]() differs from For[Mapping]()")
	}
}

func TestAvroForNamespaceAndRecursion(t *testing.T) {
	s, err := For[Order]()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "shop.Order" {
		t.Errorf("Name() = %q", s.Name())
	}
	type Node struct {
		Value int
		Next  *Node
		Kids  []Node
	}
	n, err := For[Node]()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"record","name":"Node","fields":[{"name":"value","type":"long"},` +
		`{"name":"next","type":["null","Node"],"default":null},{"name":"kids","type":{"type":"array","items":"Node"}}]}`
	if n.String() != want {
		t.Errorf("recursive\n got %s\nwant %s", n.String(), want)
	}
}

func TestAvroSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"OrderID": "order_id", "HTTPServer": "http_server", "CreatedAt": "created_at", "ID": "id",
		"SKU": "sku", "Items2": "items2", "V2Name": "v2_name", "already_snake": "already_snake", "A": "a",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAvroForErrorsNameTheField(t *testing.T) {
	type Item struct {
		SKU  string
		Meta map[int]string
	}
	type OrderCreated struct {
		ID    string
		Items []Item
	}
	type WithChan struct{ C chan int }
	type WithFunc struct{ F func() }
	type WithComplex struct{ Z complex128 }
	type WithAny struct{ Payload any }
	type WithUint64 struct{ Count uint64 }
	type WithAnon struct{ Anon struct{ X int } }
	type WithPtrPtr struct{ P **int }
	type WithBadName struct {
		First string `json:"first-name"`
	}
	type WithDup struct {
		A string `avro:"x"`
		B string `avro:"x"`
	}
	type WithBadDefault struct {
		N int `avroDefault:"\"seven\""`
	}
	type Deep struct {
		M map[string][]*WithChan
	}
	check := func(t *testing.T, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	_, err := For[OrderCreated]()
	check(t, err, "OrderCreated.Items[].Meta: map key type int is not string")
	_, err = For[WithChan]()
	check(t, err, "WithChan.C: type chan int has no Avro form")
	_, err = For[WithFunc]()
	check(t, err, "WithFunc.F: type func() has no Avro form")
	_, err = For[WithComplex]()
	check(t, err, "WithComplex.Z: type complex128 has no Avro form")
	_, err = For[WithAny]()
	check(t, err, "WithAny.Payload: type interface {} has no Avro form")
	_, err = For[WithUint64]()
	check(t, err, "WithUint64.Count: type uint64 does not fit an Avro long")
	_, err = For[WithAnon]()
	check(t, err, "WithAnon.Anon: anonymous struct has no name")
	_, err = For[WithPtrPtr]()
	check(t, err, "WithPtrPtr.P: pointer to pointer")
	_, err = For[WithBadName]()
	check(t, err, `WithBadName.First: field name: invalid name "first-name"`)
	_, err = For[WithDup]()
	check(t, err, `WithDup.B: Avro field name "x" is also used by A`)
	_, err = For[WithBadDefault]()
	check(t, err, "WithBadDefault.n: default: want an integer, got a string")
	_, err = For[Deep]()
	check(t, err, "Deep.M{}[].C: type chan int has no Avro form")
	_, err = For[int]()
	check(t, err, "int is not a struct")
	_, err = For[time.Time]()
	check(t, err, "is not a struct")
}
