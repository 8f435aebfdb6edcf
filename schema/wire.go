package schema

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Framing is how a message names the schema its body was written with.
type Framing uint8

const (
	// SingleObject is Avro single-object encoding, as the Avro
	// specification defines it: 0xC3 0x01, the 8-byte little-endian
	// CRC-64-AVRO fingerprint of the writer schema's canonical form, then
	// the body. It needs no registry: readers know writer schemas by
	// fingerprint.
	SingleObject Framing = iota + 1
	// Confluent is the Confluent Schema Registry wire format: 0x00, the
	// 4-byte big-endian registry id of the writer schema, then the body.
	Confluent
)

// String returns "single-object" or "confluent".
func (f Framing) String() string {
	switch f {
	case SingleObject:
		return "single-object"
	case Confluent:
		return "confluent"
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// Header is the framing prefix of a message: which framing, and the
// writer schema's fingerprint (SingleObject) or registry id (Confluent).
type Header struct {
	Framing     Framing
	Fingerprint uint64
	ID          int
}

const (
	singleObjectHeaderLen = 10
	confluentHeaderLen    = 5
)

// ReadHeader parses the framing prefix of data and returns it with the
// body that follows. Data that starts with neither prefix is an error
// wrapping ErrMalformed.
func ReadHeader(data []byte) (Header, []byte, error) {
	switch {
	case len(data) >= 2 && data[0] == 0xC3 && data[1] == 0x01:
		if len(data) < singleObjectHeaderLen {
			return Header{}, nil, fmt.Errorf("%w: single-object header is %d bytes, want %d", ErrMalformed, len(data), singleObjectHeaderLen)
		}
		return Header{Framing: SingleObject, Fingerprint: binary.LittleEndian.Uint64(data[2:10])}, data[singleObjectHeaderLen:], nil
	case len(data) >= 1 && data[0] == 0x00:
		if len(data) < confluentHeaderLen {
			return Header{}, nil, fmt.Errorf("%w: confluent header is %d bytes, want %d", ErrMalformed, len(data), confluentHeaderLen)
		}
		return Header{Framing: Confluent, ID: int(binary.BigEndian.Uint32(data[1:5]))}, data[confluentHeaderLen:], nil
	}
	return Header{}, nil, fmt.Errorf("%w: no single-object (0xC3 0x01) or confluent (0x00) header", ErrMalformed)
}

// AppendSingleObjectHeader appends the single-object header for a schema
// fingerprint to dst.
func AppendSingleObjectHeader(dst []byte, fingerprint uint64) []byte {
	dst = append(dst, 0xC3, 0x01)
	return binary.LittleEndian.AppendUint64(dst, fingerprint)
}

// AppendConfluentHeader appends the Confluent header for a registry schema
// id to dst. Ids are 32-bit; AppendConfluentHeader panics on one out of
// range, which a Registry never returns.
func AppendConfluentHeader(dst []byte, id int) []byte {
	if id < 0 || id > math.MaxUint32 {
		panic(fmt.Sprintf("schema: registry id %d out of the 32-bit range", id))
	}
	dst = append(dst, 0x00)
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}
