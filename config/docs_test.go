package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// docRow is one row of the configuration reference table in README.md.
type docRow struct{ typ, def, env string }

// docRows parses the reference table: key (without backquotes) to row.
func docRows(t *testing.T) map[string]docRow {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// Only the Configuration reference section: other tables have other rows.
	text := string(b)
	start := strings.Index(text, "\n## Configuration reference")
	if start < 0 {
		t.Fatal("README.md has no Configuration reference section")
	}
	text = text[start+1:]
	if end := strings.Index(text, "\n## "); end >= 0 {
		text = text[:end]
	}
	rows := map[string]docRow{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 5 {
			t.Errorf("docs row has %d cells, want 5: %s", len(cells), line)
			continue
		}
		key := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := rows[key]; dup {
			t.Errorf("docs list %s twice", key)
		}
		rows[key] = docRow{typ: cells[1], def: cells[2], env: strings.Trim(cells[3], "`")}
	}
	return rows
}

// schemaKeys lists every key the Config struct declares, list items as
// name[], with whether it is a section (a mapping or list of mappings)
// and its type.
func schemaKeys() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			name := tagName(t.Field(i))
			if name == "" {
				continue
			}
			key := prefix + name
			ft := t.Field(i).Type
			out[key] = ft
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct && ft != durationType:
				walk(ft, key+".")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), key+"[].")
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

// TestDocsMatchCode keeps README.md exact: every key has a
// row, every row is a key, environment names are right, and every
// non-empty default is the code's.
func TestDocsMatchCode(t *testing.T) {
	rows := docRows(t)
	schema := schemaKeys()
	for key, typ := range schema {
		isSection := typ.Kind() == reflect.Struct && typ != durationType
		if _, ok := rows[key]; !ok && !isSection {
			t.Errorf("README.md lacks a row for %s", key)
		}
	}
	for key := range rows {
		if _, ok := schema[key]; !ok {
			t.Errorf("README.md documents %s, which is not a key", key)
		}
	}
	for _, key := range Keys() {
		if got := rows[key].env; got != EnvName(key) {
			t.Errorf("docs: %s env %q, want %q", key, got, EnvName(key))
		}
	}
	for key, row := range rows {
		if strings.Contains(key, "[]") || key == "topics" || key == "consumers" {
			if row.env != "—" {
				t.Errorf("docs: list key %s has env %q, want —", key, row.env)
			}
		}
	}

	// Defaults: the top-level ones from Default(), the list items' from
	// loading one bare item of each.
	check := func(key string, v any) {
		want := formatDefault(v)
		if want == "" {
			return
		}
		if !strings.Contains(rows[key].def, "`"+want+"`") {
			t.Errorf("docs: %s default %q, want `%s`", key, rows[key].def, want)
		}
	}
	for _, lf := range leaves() {
		check(lf.key, lf.get(Default()))
	}
	path := writeConfig(t, `
topics: [{name: t}]
consumers:
  - {topic: t, group: g, handler: {http: {url: "http://h/"}}}
`)
	cfg := mustLoad(t, Source{File: path, Env: noEnv})
	derived := map[string]bool{ // defaults that depend on other keys
		"topics[].name": true, "consumers[].topic": true, "consumers[].group": true,
		"consumers[].dead_letter_topic": true, "consumers[].max_in_flight": true,
		"consumers[].handler.http.url": true,
	}
	itemDefaults := func(prefix string, v reflect.Value) {
		var walk func(prefix string, v reflect.Value)
		walk = func(prefix string, v reflect.Value) {
			for i := range v.NumField() {
				name := tagName(v.Type().Field(i))
				f := v.Field(i)
				if f.Kind() == reflect.Pointer {
					if f.IsNil() {
						continue
					}
					f = f.Elem()
				}
				key := prefix + name
				switch {
				case derived[key]:
				case f.Kind() == reflect.Struct && f.Type() != durationType:
					walk(key+".", f)
				default:
					check(key, f.Interface())
				}
			}
		}
		walk(prefix, v)
	}
	itemDefaults("topics[].", reflect.ValueOf(cfg.Topics[0]))
	itemDefaults("consumers[].", reflect.ValueOf(cfg.Consumers[0]))
}

// formatDefault writes a default as the docs do; "" for a zero value,
// which the docs describe in words.
func formatDefault(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return fmt.Sprint(v)
	case time.Duration:
		if v == 0 {
			return ""
		}
		return v.String()
	case int, int16, int32, int64, float64:
		if reflect.ValueOf(v).IsZero() {
			return ""
		}
		return fmt.Sprint(v)
	}
	return ""
}
