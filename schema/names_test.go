package schema

import (
	"errors"
	"strings"
	"testing"
)

// placed is the writer's Go type in the naming tests: data on the topic
// was written with For[placed](Name("OrderCreated"), Namespace("shop")).
type placed struct {
	OrderID string `avro:"order_id"`
	Amount  int64  `avro:"amount"`
}

// orderCreatedV2 is a reader with another Go name and one more field.
type orderCreatedV2 struct {
	OrderID  string `avro:"order_id"`
	Amount   int64  `avro:"amount"`
	Currency string `avro:"currency" avroDefault:"\"EUR\""`
}

func mustForOpts[T any](t *testing.T, opts ...ForOption) *Schema {
	t.Helper()
	s, err := For[T](opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAvroForNameOptions(t *testing.T) {
	const fields = `"fields":[{"name":"order_id","type":"string"},{"name":"amount","type":"long"}]}`
	for _, tc := range []struct {
		name string
		opts []ForOption
		want string
	}{
		{"none", nil, `{"type":"record","name":"placed",` + fields},
		{"name", []ForOption{Name("OrderCreated")}, `{"type":"record","name":"OrderCreated",` + fields},
		{"namespace", []ForOption{Namespace("shop")}, `{"type":"record","name":"shop.placed",` + fields},
		{"all three", []ForOption{Name("OrderCreated"), Namespace("shop.v1"), Aliases("shop.OrderPlaced", "Old")},
			`{"type":"record","name":"shop.v1.OrderCreated","aliases":["shop.OrderPlaced","Old"],` + fields},
		{"last wins", []ForOption{Name("A"), Name("B")}, `{"type":"record","name":"B",` + fields},
		{"nil option ignored", []ForOption{nil, Name("A")}, `{"type":"record","name":"A",` + fields},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustForOpts[placed](t, tc.opts...)
			if s.String() != tc.want {
				t.Errorf("\n got %s\nwant %s", s, tc.want)
			}
			if again := mustForOpts[placed](t, tc.opts...); again != s {
				t.Error("not cached per type and options")
			}
		})
	}
	if s := mustForOpts[generic[int]](t, Name("IntBox")); s.Name() != "IntBox" {
		t.Errorf("a generic type named by Name: %s", s)
	}
	if mustForOpts[placed](t, Name("X")) == mustForOpts[placed](t, Name("Y")) {
		t.Error("different options share one cache entry")
	}
}

// Nested types name themselves by methods; the root's options override the
// root's methods only.
type renamedRoot struct {
	Line  renamedLine  `avro:"line"`
	State renamedState `avro:"state"`
	Hash  renamedHash  `avro:"hash"`
}

func (renamedRoot) AvroName() string      { return "Root" }
func (renamedRoot) AvroNamespace() string { return "shop" }
func (renamedRoot) AvroAliases() []string { return []string{"OldRoot"} }

type renamedLine struct {
	SKU string `avro:"sku"`
}

func (*renamedLine) AvroName() string     { return "LineItem" } // pointer receiver works too
func (renamedLine) AvroAliases() []string { return []string{"shop.Item"} }

type renamedState string

func (renamedState) AvroSymbols() []string { return []string{"NEW"} }
func (renamedState) AvroName() string      { return "Status" }
func (renamedState) AvroAliases() []string { return []string{"State"} }

type renamedHash [2]byte

func (renamedHash) AvroName() string      { return "MD2" }
func (renamedHash) AvroNamespace() string { return "crypto" }

func TestAvroForNameMethods(t *testing.T) {
	nested := `"fields":[` +
		`{"name":"line","type":{"type":"record","name":"LineItem","aliases":["shop.Item"],"fields":[{"name":"sku","type":"string"}]}},` +
		`{"name":"state","type":{"type":"enum","name":"Status","aliases":["State"],"symbols":["NEW"]}},` +
		`{"name":"hash","type":{"type":"fixed","name":"crypto.MD2","size":2}}]}`
	for _, tc := range []struct {
		name string
		opts []ForOption
		want string
	}{
		{"methods", nil, `{"type":"record","name":"shop.Root","aliases":["OldRoot"],` + nested},
		{"options override", []ForOption{Name("Top"), Namespace(""), Aliases()}, `{"type":"record","name":"Top",` + nested},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s := mustForOpts[renamedRoot](t, tc.opts...); s.String() != tc.want {
				t.Errorf("\n got %s\nwant %s", s, tc.want)
			}
		})
	}
}

// A recursive root refers to itself by the name its options give it.
type tree struct {
	Kids []tree `avro:"kids"`
}

func TestAvroForNameRecursive(t *testing.T) {
	want := `{"type":"record","name":"Tree","fields":[{"name":"kids","type":{"type":"array","items":"Tree"}}]}`
	if s := mustForOpts[tree](t, Name("Tree")); s.String() != want {
		t.Errorf("\n got %s\nwant %s", s, want)
	}
}

type badAvroName struct{ N int }

func (badAvroName) AvroName() string { return "bad-name" }

type badAvroAliases struct{ N int }

func (badAvroAliases) AvroAliases() []string { return []string{"ok", "shop..x"} }

type holdsBadName struct {
	Inner badAvroName
}

type generic[T any] struct{ V T }

type clash struct {
	Line renamedLine
}

func TestAvroForBadNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func() (*Schema, error)
		want string
	}{
		{"Name invalid", func() (*Schema, error) { return For[placed](Name("Order-Created")) },
			`schema.For[schema.placed]: schema.Name("Order-Created"): invalid name "Order-Created"`},
		{"Name empty", func() (*Schema, error) { return For[placed](Name("")) }, `schema.Name(""): empty name`},
		{"Name dotted", func() (*Schema, error) { return For[placed](Name("shop.Order")) },
			`schema.Name("shop.Order"): a name has no dots; set the namespace with schema.Namespace`},
		{"Namespace invalid", func() (*Schema, error) { return For[placed](Namespace("shop..v1")) },
			`schema.Namespace("shop..v1"): invalid name "shop..v1"`},
		{"Aliases invalid", func() (*Schema, error) { return For[placed](Aliases("ok", "9lives")) },
			`schema.Aliases("9lives"): invalid name "9lives"`},
		{"every bad option", func() (*Schema, error) { return For[placed](Name("a b"), Namespace("1")) },
			`schema.Name("a b"): invalid name "a b": want [A-Za-z_][A-Za-z0-9_]*; schema.Namespace("1"): invalid name "1"`},
		{"AvroName method", func() (*Schema, error) { return For[holdsBadName]() },
			`holdsBadName.Inner: AvroName of schema.badAvroName: invalid name "bad-name"`},
		{"AvroAliases method", func() (*Schema, error) { return For[badAvroAliases]() },
			`AvroAliases of schema.badAvroAliases: invalid name "shop..x"`},
		{"generic Go type", func() (*Schema, error) { return For[generic[int]]() },
			`the name of Go type schema.generic[int] is not a valid Avro name; give it an AvroName method`},
		{"root renamed onto a nested name", func() (*Schema, error) { return For[clash](Name("LineItem")) },
			`clash.Line: Go types schema.clash and schema.renamedLine both map to Avro name "LineItem"; give one an AvroName or AvroNamespace method`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("For = %v, %v; want an error containing %q", s, err, tc.want)
			}
		})
	}
}

// TestAvroReaderWithAnotherGoName is the case of issue 14: a reader struct
// with another Go name reads data written by the original, once it says
// which name it reads, by Name or by Aliases.
func TestAvroReaderWithAnotherGoName(t *testing.T) {
	writer := mustForOpts[placed](t, Name("OrderCreated"), Namespace("shop"))
	value := placed{OrderID: "o-1", Amount: 1250}
	want := orderCreatedV2{OrderID: "o-1", Amount: 1250, Currency: "EUR"}
	for _, tc := range []struct {
		name string
		opts []ForOption
	}{
		{"by Name", []ForOption{Name("OrderCreated"), Namespace("shop")}},
		{"by Name in another namespace", []ForOption{Name("OrderCreated")}},
		{"by full alias", []ForOption{Namespace("shop"), Aliases("shop.OrderCreated")}},
		{"by alias in its own namespace", []ForOption{Namespace("shop"), Aliases("OrderPlaced", "OrderCreated")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader := mustForOpts[orderCreatedV2](t, tc.opts...)
			checkEvolve(t, writer.String(), value, reader, func() any { return new(orderCreatedV2) }, want)
		})
	}

	// Without a name or alias that matches, every record is incompatible,
	// and the error names both records.
	reader := mustForOpts[orderCreatedV2](t, Namespace("shop"), Aliases("shop.OrderPlaced"))
	_, _, errSingle, errConfluent := evolve(t, writer.String(), value, reader, func() any { return new(orderCreatedV2) })
	for _, err := range []error{errSingle, errConfluent} {
		var ie *IncompatibleError
		if !errors.As(err, &ie) || ie.Writer != "shop.OrderCreated" || ie.Reader != "shop.orderCreatedV2" {
			t.Fatalf("no matching name: %v, want an *IncompatibleError from shop.OrderCreated to shop.orderCreatedV2", err)
		}
		for _, name := range []string{"shop.OrderCreated", "shop.orderCreatedV2"} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name %s", err, name)
			}
		}
	}
}

// TestAvroResolveNamedTypesByAlias: records, enums and fixed types match a
// writer's type by the reader's name or aliases, nested as well as at the
// root, and fail without one.
func TestAvroResolveNamedTypesByAlias(t *testing.T) {
	record := func(field string) string {
		return `{"type":"record","name":"Event","fields":[{"name":"x","type":` + field + `}]}`
	}
	for _, tc := range []struct {
		name           string
		writer, reader string
		value          any
		wantErr        string // "" when the reader reads the value
	}{
		{"record by alias",
			record(`{"type":"record","name":"shop.Line","fields":[{"name":"n","type":"int"}]}`),
			record(`{"type":"record","name":"shop.Item","aliases":["shop.Line"],"fields":[{"name":"n","type":"int"}]}`),
			map[string]any{"x": map[string]any{"n": 1}}, ""},
		{"record by relative alias",
			record(`{"type":"record","name":"shop.Line","fields":[{"name":"n","type":"int"}]}`),
			record(`{"type":"record","name":"Item","namespace":"shop","aliases":["Line"],"fields":[{"name":"n","type":"int"}]}`),
			map[string]any{"x": map[string]any{"n": 1}}, ""},
		{"record without alias",
			record(`{"type":"record","name":"shop.Line","fields":[{"name":"n","type":"int"}]}`),
			record(`{"type":"record","name":"shop.Item","aliases":["shop.Row"],"fields":[{"name":"n","type":"int"}]}`),
			map[string]any{"x": map[string]any{"n": 1}}, "record shop.Line in the writer's schema is not record shop.Item"},
		{"enum by alias",
			record(`{"type":"enum","name":"Status","symbols":["NEW"]}`),
			record(`{"type":"enum","name":"State","aliases":["Status"],"symbols":["NEW"]}`),
			map[string]any{"x": "NEW"}, ""},
		{"enum without alias",
			record(`{"type":"enum","name":"Status","symbols":["NEW"]}`),
			record(`{"type":"enum","name":"State","symbols":["NEW"]}`),
			map[string]any{"x": "NEW"}, "enum Status in the writer's schema is not enum State"},
		{"fixed by alias",
			record(`{"type":"fixed","name":"crypto.MD2","size":2}`),
			record(`{"type":"fixed","name":"crypto.Digest","aliases":["crypto.MD2"],"size":2}`),
			map[string]any{"x": []byte("ab")}, ""},
		{"fixed without alias",
			record(`{"type":"fixed","name":"crypto.MD2","size":2}`),
			record(`{"type":"fixed","name":"crypto.Digest","size":2}`),
			map[string]any{"x": []byte("ab")}, "fixed crypto.MD2 in the writer's schema is not fixed crypto.Digest"},
		{"union branch by alias",
			record(`{"type":"record","name":"Line","fields":[{"name":"n","type":"int"}]}`),
			record(`["null",{"type":"record","name":"Item","aliases":["Line"],"fields":[{"name":"n","type":"int"}]}]`),
			map[string]any{"x": map[string]any{"n": 1}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, r := MustParse(tc.writer), MustParse(tc.reader)
			body, err := w.Encode(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			err = r.DecodeFrom(w, body, &got)
			reasons := Compatible(w, r, Backward)
			if tc.wantErr == "" {
				if err != nil || len(reasons) > 0 {
					t.Errorf("DecodeFrom: %v; Compatible: %q", err, reasons)
				}
				return
			}
			var ie *IncompatibleError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("DecodeFrom: %v, want an *IncompatibleError containing %q", err, tc.wantErr)
			}
			if len(reasons) != 1 || !strings.Contains(reasons[0], strings.NewReplacer("writer's", "old", "reader's", "new").Replace(tc.wantErr)) {
				t.Errorf("Compatible: %q, want one reason like %q", reasons, tc.wantErr)
			}
		})
	}
}
