// This file holds problem reporting: KeyError, the loader's recording of
// problems phase by phase (dropping those that follow from an earlier
// one), naming the source of each key's value, and ordering the problems
// by the keys' place in the file layout.

package config

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// KeyError is one problem with one configuration key. Load and Validate
// return every problem they find joined with errors.Join; each one is a
// *KeyError, reachable with errors.As on the individual errors.
type KeyError struct {
	// Source is where the offending value came from: the config file's
	// path, "env ACTORD_..." for an environment variable, "command line"
	// for a flag, or empty for a value that was not set (a default or a
	// missing key).
	Source string
	// Key is the dotted key with list indexes, e.g. consumers[1].ordering.
	Key string
	// Err says what is wrong. It never holds a secret.
	Err error
}

// Error formats the problem as "source: key: problem".
func (e *KeyError) Error() string {
	if e.Source == "" {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Source + ": " + e.Key + ": " + e.Err.Error()
}

// Unwrap returns the underlying problem.
func (e *KeyError) Unwrap() error { return e.Err }

// sourceCommandLine labels problems with values from Source.Flags.
const sourceCommandLine = "command line"

// report adds the validation problems, attributing each to its source.
func (l *loader) report(problems []*KeyError) {
	for _, p := range problems {
		l.add(l.sourceOf(p.Key), p.Key, p.Err)
	}
	l.endPhase()
}

// add records a problem with key in the current phase, unless the layers
// are merged and an earlier phase reported the key or one related to it.
func (l *loader) add(source, key string, err error) {
	for _, k := range l.phase {
		if l.merged && related(k, key) {
			return
		}
	}
	l.errs = append(l.errs, &KeyError{Source: source, Key: key, Err: err})
	l.cur = append(l.cur, key)
}

// endPhase closes the current phase: its keys join those of the earlier
// phases.
func (l *loader) endPhase() {
	l.phase = append(l.phase, l.cur...)
	l.cur = nil
}

// joined returns the problems in the order of their keys in the file
// layout (struct order, list items by index), one a line.
func (l *loader) joined() error {
	slices.SortStableFunc(l.errs, func(a, b *KeyError) int {
		return slices.Compare(keyOrder(a.Key), keyOrder(b.Key))
	})
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// sourceOf names where the value of key came from: the highest layer that
// set it, or a key above or below it.
func (l *loader) sourceOf(key string) string {
	for k := range l.flags {
		if related(k, key) {
			return sourceCommandLine
		}
	}
	if name, ok := l.env[key]; ok {
		return "env " + name
	}
	for _, k := range slices.Sorted(maps.Keys(l.env)) {
		if related(k, key) {
			return "env " + l.env[k]
		}
	}
	if l.file != "" && inFile(l.fileMap, key) {
		return l.file
	}
	return ""
}

// related reports whether a and b are the same key or one holds the other.
func related(a, b string) bool {
	return a == b || under(a, b) || under(b, a)
}

// under reports whether key lies inside section (a key or a list item).
func under(key, section string) bool {
	return strings.HasPrefix(key, section) && len(key) > len(section) &&
		(key[len(section)] == '.' || key[len(section)] == '[')
}

// inFile reports whether the file set key, its section (a problem about a
// missing key lies with the section that lacks it), or the list item
// holding it (list items come from the file as a whole).
func inFile(m map[string]any, key string) bool {
	var cur any = m
	inItem := false
	toks := splitKey(key)
	for i, tok := range toks {
		last := i == len(toks)-1
		switch c := cur.(type) {
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(c) {
				return inItem
			}
			cur, inItem = c[n], true
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return inItem || last
			}
			cur = v
		default:
			return inItem
		}
	}
	return true
}

// keyOrder maps a key to its position: a field's index in its struct, a
// list item's index; names the struct lacks (unknown keys) sort after the
// known ones of their section.
func keyOrder(key string) []int {
	t := reflect.TypeFor[Config]()
	var out []int
	for _, tok := range splitKey(key) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			pos := t.NumField()
			for i := range t.NumField() {
				if tagName(t.Field(i)) == tok {
					pos = i
					break
				}
			}
			out = append(out, pos)
			if pos == t.NumField() {
				return out
			}
			t = t.Field(pos).Type
		case reflect.Slice:
			n, _ := strconv.Atoi(tok)
			out = append(out, n)
			t = t.Elem()
		default:
			return out
		}
	}
	return out
}
