package schema

import (
	"fmt"
	"math"
	"strconv"
)

// Limits of the body check: decoding arbitrary bytes must neither recurse
// without bound nor allocate without bound, so nesting is capped and array
// and map counts are checked against the bytes that remain (an item takes
// at least its type's minimum size; items of types that encode to no bytes
// at all share a budget).
const (
	maxNesting     = 512
	zeroSizeBudget = 1 << 16
)

// checkBody walks an Avro binary body against the schema and checks that
// it is well formed and exactly consumed, before goavro decodes it. Its
// errors wrap ErrMalformed and name the field.
func checkBody(n *node, buf []byte) error {
	c := bodyChecker{buf: buf, budget: zeroSizeBudget}
	if err := c.value(n); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, rooted(n, err))
	}
	if c.pos != len(buf) {
		return fmt.Errorf("%w: %d bytes after the %s value", ErrMalformed, len(buf)-c.pos, n.rootPath())
	}
	return nil
}

type bodyChecker struct {
	buf    []byte
	pos    int
	depth  int
	budget int64
}

const dataEndsEarly = "data ends early"

func (c *bodyChecker) fail(reason string) error { return fieldErr(reason) }

func (c *bodyChecker) long() (int64, error) {
	var u uint64
	var shift uint
	for i := 0; ; i++ {
		if c.pos >= len(c.buf) {
			return 0, c.fail(dataEndsEarly)
		}
		if i == 10 {
			return 0, c.fail("varint longer than 10 bytes")
		}
		b := c.buf[c.pos]
		c.pos++
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
		shift += 7
	}
	return int64(u>>1) ^ -int64(u&1), nil
}

func (c *bodyChecker) skip(n int64, what string) error {
	if n < 0 {
		return c.fail(fmt.Sprintf("negative %s length %d", what, n))
	}
	if n > int64(len(c.buf)-c.pos) {
		return c.fail(fmt.Sprintf("%s length %d exceeds the %d bytes left", what, n, len(c.buf)-c.pos))
	}
	c.pos += int(n)
	return nil
}

func (c *bodyChecker) value(n *node) error {
	switch n.kind {
	case kindUnion, kindRecord, kindArray, kindMap:
		if c.depth >= maxNesting {
			return c.fail("values nested more than " + strconv.Itoa(maxNesting) + " deep")
		}
		c.depth++
		err := c.nested(n)
		c.depth--
		return err
	case kindNull:
		return nil
	case kindBoolean:
		if c.pos >= len(c.buf) {
			return c.fail(dataEndsEarly)
		}
		if c.buf[c.pos] > 1 {
			return c.fail(fmt.Sprintf("boolean byte %#x is neither 0 nor 1", c.buf[c.pos]))
		}
		c.pos++
		return nil
	case kindInt:
		i, err := c.long()
		if err != nil {
			return err
		}
		if i < math.MinInt32 || i > math.MaxInt32 {
			return c.fail(fmt.Sprintf("int %d out of range", i))
		}
		return nil
	case kindLong:
		_, err := c.long()
		return err
	case kindFloat:
		return c.skip(4, "float")
	case kindDouble:
		return c.skip(8, "double")
	case kindBytes, kindString:
		l, err := c.long()
		if err != nil {
			return err
		}
		return c.skip(l, n.kind.String())
	case kindFixed:
		return c.skip(int64(n.size), "fixed")
	case kindEnum:
		i, err := c.long()
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(n.symbols)) {
			return c.fail(fmt.Sprintf("enum index %d out of range [0, %d)", i, len(n.symbols)))
		}
		return nil
	}
	return c.fail("unsupported type " + n.kind.String())
}

// nested checks a value that contains other values.
func (c *bodyChecker) nested(n *node) error {
	switch n.kind {
	case kindUnion:
		i, err := c.long()
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(n.branches)) {
			return c.fail(fmt.Sprintf("union branch %d out of range [0, %d)", i, len(n.branches)))
		}
		return c.value(n.branches[i])
	case kindRecord:
		for _, f := range n.fields {
			if err := c.value(f.typ); err != nil {
				return prefix("."+f.name, err)
			}
		}
		return nil
	case kindArray, kindMap:
		return c.blocks(n)
	}
	return c.fail("unsupported type " + n.kind.String())
}

// blocks checks the blocks of an array or map: a count (negative: followed
// by a byte size), the items, and a zero count at the end.
func (c *bodyChecker) blocks(n *node) error {
	item := int64(n.items.minSize)
	if n.kind == kindMap {
		item++ // the key's length
	}
	idx := 0
	for {
		count, err := c.long()
		if err != nil {
			return err
		}
		if count == 0 {
			return nil
		}
		if count < 0 {
			if count == math.MinInt64 {
				return c.fail("block count out of range")
			}
			count = -count
			size, err := c.long()
			if err != nil {
				return err
			}
			if size < 0 {
				return c.fail(fmt.Sprintf("negative block size %d", size))
			}
		}
		left := int64(len(c.buf) - c.pos)
		if item > 0 {
			if count > left/item {
				return c.fail(fmt.Sprintf("block of %d items cannot fit in the %d bytes left", count, left))
			}
		} else {
			c.budget -= count
			if c.budget < 0 {
				return c.fail(fmt.Sprintf("more than %d items of a type that encodes to no bytes", zeroSizeBudget))
			}
		}
		for range count {
			keyStart, keyEnd := -1, -1
			if n.kind == kindMap {
				l, err := c.long()
				if err != nil {
					return prefix("["+strconv.Itoa(idx)+"]", err)
				}
				keyStart = c.pos
				if err := c.skip(l, "map key"); err != nil {
					return prefix("["+strconv.Itoa(idx)+"]", err)
				}
				keyEnd = c.pos
			}
			if err := c.value(n.items); err != nil {
				seg := "[" + strconv.Itoa(idx) + "]"
				if keyStart >= 0 {
					seg = "[" + strconv.Quote(string(c.buf[keyStart:keyEnd])) + "]"
				}
				return prefix(seg, err)
			}
			idx++
		}
	}
}
