package schema

import (
	"strings"
	"testing"
)

func record(fields string) *Schema {
	return MustParse(`{"type":"record","name":"Order","namespace":"shop","fields":[` + fields + `]}`)
}

func TestAvroCompatible(t *testing.T) {
	base := `{"name":"id","type":"string"},{"name":"qty","type":"int"}`
	statusEnum := func(symbols, def string) string {
		s := `{"name":"status","type":{"type":"enum","name":"Status","symbols":[` + symbols + `]`
		if def != "" {
			s += `,"default":"` + def + `"`
		}
		return s + `}}`
	}
	for _, tc := range []struct {
		name     string
		old, new *Schema
		// want is the reasons per mode; "" means compatible.
		backward, forward string
	}{
		{"identical", record(base), record(base), "", ""},
		{"add field with default", record(base), record(base + `,{"name":"note","type":["null","string"],"default":null}`), "", ""},
		{"add field without default", record(base), record(base + `,{"name":"note","type":"string"}`),
			"Order.note: field has no default in the new schema and is missing from the old schema", ""},
		{"remove field without default", record(base + `,{"name":"note","type":"string"}`), record(base),
			"", "Order.note: field has no default in the old schema and is missing from the new schema"},
		{"remove field with default", record(base + `,{"name":"note","type":"string","default":""}`), record(base), "", ""},
		{"int to long", record(base), record(`{"name":"id","type":"string"},{"name":"qty","type":"long"}`),
			"", "Order.qty: long in the new schema cannot be read as int in the old schema"},
		{"string to int", record(base), record(`{"name":"id","type":"int"},{"name":"qty","type":"int"}`),
			"Order.id: string in the old schema cannot be read as int in the new schema",
			"Order.id: int in the new schema cannot be read as string in the old schema"},
		{"rename with alias", record(base), record(`{"name":"order_id","type":"string","aliases":["id"]},{"name":"qty","type":"int"}`),
			"", "Order.id: field has no default in the old schema and is missing from the new schema"},
		{"enum adds symbol", record(statusEnum(`"NEW"`, "")), record(statusEnum(`"NEW","PAID"`, "")),
			"", `Order.status: symbols "PAID" of the new schema are missing from the old schema, which has no enum default`},
		{"enum adds symbol, old has default", record(statusEnum(`"NEW"`, "NEW")), record(statusEnum(`"NEW","PAID"`, "")), "", ""},
		{"optional to required", record(`{"name":"n","type":["null","long"],"default":null}`), record(`{"name":"n","type":"long"}`),
			"Order.n: null in the old schema cannot be read as long in the new schema", ""},
		{"record renamed", record(base), MustParse(`{"type":"record","name":"shop.Purchase","fields":[` + base + `]}`),
			"Purchase: record shop.Order in the old schema is not record shop.Purchase in the new schema (by name or alias)",
			"Order: record shop.Purchase in the new schema is not record shop.Order in the old schema (by name or alias)"},
		{"nested array item", record(`{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"}]}}}`),
			record(`{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}}`),
			"Order.items[].qty: field has no default in the new schema and is missing from the old schema", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(mode Mode, want ...string) {
				t.Helper()
				var wantReasons []string
				for _, w := range want {
					if w != "" {
						wantReasons = append(wantReasons, w)
					}
				}
				got := Compatible(tc.old, tc.new, mode)
				if strings.Join(got, "\n") != strings.Join(wantReasons, "\n") {
					t.Errorf("%s:\n got %q\nwant %q", mode, got, wantReasons)
				}
			}
			check(Backward, tc.backward)
			check(Forward, tc.forward)
			check(Full, tc.backward, tc.forward)
		})
	}
}

func TestAvroParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"backward": Backward, "FORWARD": Forward, " full ": Full} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
		if want.String() != strings.ToLower(strings.TrimSpace(in)) {
			t.Errorf("%v.String() = %q", want, want.String())
		}
	}
	if _, err := ParseMode("transitive"); err == nil || !strings.Contains(err.Error(), "want backward, forward or full") {
		t.Errorf("ParseMode(transitive) = %v", err)
	}
}
