package schema

import (
	"fmt"
	"os"
	"sync"

	"github.com/linkedin/goavro/v2"
)

// Schema is a parsed Avro schema. It is immutable and safe for concurrent
// use; encoding and decoding with it reuse one compiled goavro codec, shared
// by every Schema parsed from the same text.
type Schema struct {
	text      string
	root      *node
	canonical string
	fp        uint64
	codec     *goavro.Codec
	// fixedDec: the schema has a fixed decimal, which goavro compiles as
	// plain fixed (fixeddecimal.go).
	fixedDec bool

	// resolutions caches, per writer *Schema, how to turn that writer's
	// values into this (reader) schema's.
	resolutions sync.Map
}

// codecs caches compiled goavro codecs by schema text.
var codecs sync.Map

// codecOptions: decimals use the specification's two's-complement form;
// the string "null" is an ordinary string, not a stand-in for null.
var codecOptions = &goavro.CodecOption{EnableDecimalBinarySpecCompliantEncoding: true}

// Parse parses an Avro schema from its JSON text. Besides the syntax, it
// checks names, that union branches are distinct, and that every field
// default and enum default fits its type, so a schema that parses can
// encode any value that fits it.
func Parse(text string) (*Schema, error) {
	root, err := parseNode(text, true)
	if err != nil {
		return nil, fmt.Errorf("avro schema: %w", err)
	}
	compact := compactJSON(text)
	codecText, fixedDec := compact, hasFixedDecimal(root)
	if fixedDec {
		if codecText, err = plainFixedText(compact); err != nil {
			return nil, fmt.Errorf("avro schema: %w", err)
		}
	}
	var codec *goavro.Codec
	if c, ok := codecs.Load(codecText); ok {
		codec = c.(*goavro.Codec)
	} else {
		codec, err = goavro.NewCodecWithOptions(codecText, codecOptions)
		if err != nil {
			return nil, fmt.Errorf("avro schema: %w", err)
		}
		if c, loaded := codecs.LoadOrStore(codecText, codec); loaded {
			codec = c.(*goavro.Codec)
		}
	}
	s := newSchema(compact, root, codec)
	s.fixedDec = fixedDec
	return s, nil
}

func newSchema(text string, root *node, codec *goavro.Codec) *Schema {
	canon := canonicalForm(root)
	return &Schema{
		text:      text,
		root:      root,
		canonical: canon,
		fp:        rabin([]byte(canon)),
		codec:     codec,
	}
}

// MustParse is Parse that panics on error, for schemas that are constants
// of the program.
func MustParse(text string) *Schema {
	s, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return s
}

// Load reads and parses an Avro schema file (.avsc). Errors name the file.
func Load(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	s, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// String returns the schema's full JSON text (with docs, defaults, aliases
// and logical types), without insignificant whitespace.
func (s *Schema) String() string { return s.text }

// Name returns the full name of a record, enum or fixed schema, and the
// type name ("string", "array", "union", ...) of any other.
func (s *Schema) Name() string {
	if s.root.named() {
		return s.root.name
	}
	return s.root.kind.String()
}

// Canonical returns the schema's Parsing Canonical Form as the Avro
// specification defines it: two schemas with the same canonical form encode
// every value to the same bytes.
func (s *Schema) Canonical() string { return s.canonical }

// Fingerprint returns the CRC-64-AVRO (Rabin) fingerprint of the canonical
// form: the fingerprint single-object encoding carries.
func (s *Schema) Fingerprint() uint64 { return s.fp }
