package schema

import (
	"fmt"
	"strings"
)

// Mode is a compatibility mode between an old and a new version of a
// schema, named as Confluent Schema Registry names them.
type Mode int

const (
	// Backward: consumers using the new schema can read data written with
	// the old one. Deleting fields and adding fields with defaults are
	// backward compatible; upgrade consumers first.
	Backward Mode = iota + 1
	// Forward: consumers using the old schema can read data written with
	// the new one. Adding fields and deleting fields that had defaults are
	// forward compatible; upgrade producers first.
	Forward
	// Full: both Backward and Forward; producers and consumers upgrade in
	// any order.
	Full
)

// String returns the mode's name: backward, forward or full.
func (m Mode) String() string {
	switch m {
	case Backward:
		return "backward"
	case Forward:
		return "forward"
	case Full:
		return "full"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses a mode name: backward, forward or full (any case).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "backward":
		return Backward, nil
	case "forward":
		return Forward, nil
	case "full":
		return Full, nil
	}
	return 0, fmt.Errorf("compatibility mode %q: want backward, forward or full", s)
}

// Compatible checks whether the schema new can replace old under mode and
// returns the reasons it cannot, each naming the field; none means
// compatible. The rules are the Avro specification's schema resolution:
// a reader field missing from the writer needs a default, types must match
// or promote, named types match by name or alias, and enum symbols the
// reader lacks need a reader enum default.
func Compatible(old, new *Schema, mode Mode) []string {
	var reasons []string
	if mode == Backward || mode == Full {
		reasons = append(reasons, canRead(old, new, "old schema", "new schema")...)
	}
	if mode == Forward || mode == Full {
		reasons = append(reasons, canRead(new, old, "new schema", "old schema")...)
	}
	if mode != Backward && mode != Forward && mode != Full {
		reasons = append(reasons, fmt.Sprintf("unknown compatibility mode %d", int(mode)))
	}
	return reasons
}

// canRead lists why reader cannot read all data written with writer.
func canRead(writer, reader *Schema, labelW, labelR string) []string {
	rv := newResolver(writer.root, reader.root, labelW, labelR)
	rv.build(writer.root, reader.root, reader.root.rootPath())
	return rv.reasons
}
