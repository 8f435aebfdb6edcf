package actors

import (
	"encoding/json"
	"strconv"
)

// Decoder turns a record value into the handler's value; an error makes
// the record a poison record (permanent failure, dead-lettered at once).
type Decoder interface {
	Decode(data []byte, v any) error
}

// JSON decodes record values with encoding/json; it is the default.
type JSON struct{}

// Decode implements Decoder.
func (JSON) Decode(data []byte, v any) error {
	switch p := v.(type) {
	case *[]byte:
		*p = data
		return nil
	case *string:
		*p = string(data)
		return nil
	}
	return json.Unmarshal(data, v)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
