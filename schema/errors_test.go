package schema

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAvroTransient(t *testing.T) {
	regIO := &RegistryError{Op: "lookup id 7", Err: errors.New("dial tcp 10.0.0.1:8081: connection refused")}
	reg5xx := &RegistryError{Op: "lookup id 7", Err: errors.New("HTTP 503 Service Unavailable")}
	regDeadline := &RegistryError{Op: "lookup id 7", Err: context.DeadlineExceeded}
	regCanceled := &RegistryError{Op: "lookup id 7", Err: context.Canceled}
	regUnknown := &RegistryError{Op: "lookup id 7", Err: fmt.Errorf("%w: HTTP 404", ErrUnknownSchema)}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"registry unreachable", regIO, true},
		{"registry 5xx", reg5xx, true},
		{"registry timeout", regDeadline, true},
		{"registry call cancelled", regCanceled, true},
		{"registry error without cause", &RegistryError{Op: "lookup id 7"}, true},
		{"deadline exceeded", context.DeadlineExceeded, true},
		{"malformed", fmt.Errorf("%w: truncated body", ErrMalformed), false},
		{"unknown schema", fmt.Errorf("%w: fingerprint 0x1", ErrUnknownSchema), false},
		{"incompatible", &IncompatibleError{Writer: "A", Reader: "B", Path: "B", Reason: "r"}, false},
		{"field", &FieldError{Path: "A.x", Reason: "want int, got Go string"}, false},
		{"unknown id inside a registry error", regUnknown, false},
		{"cancelled alone", context.Canceled, false},
		{"other", errors.New("avro decode: want a non-nil pointer, got int"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Transient(tc.err); got != tc.want {
				t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if tc.err == nil {
				return
			}
			wrapped := fmt.Errorf("decode orders[3]@17: %w", tc.err)
			if got := Transient(wrapped); got != tc.want {
				t.Errorf("Transient(%v) = %v, want %v", wrapped, got, tc.want)
			}
			twice := fmt.Errorf("handler: %w", wrapped)
			if got := Transient(twice); got != tc.want {
				t.Errorf("Transient(%v) = %v, want %v", twice, got, tc.want)
			}
			joined := errors.Join(errors.New("other"), tc.err)
			if got := Transient(joined); got != tc.want {
				t.Errorf("Transient(%v) = %v, want %v", joined, got, tc.want)
			}
		})
	}
}

func TestAvroRegistryError(t *testing.T) {
	for _, tc := range []struct {
		err  *RegistryError
		want string
	}{
		{&RegistryError{Op: "lookup id 7", Err: context.DeadlineExceeded}, "schema registry: lookup id 7: context deadline exceeded"},
		{&RegistryError{Op: "lookup id 7"}, "schema registry: lookup id 7"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if got := tc.err.Unwrap(); got != tc.err.Err {
			t.Errorf("%v unwraps to %v, want its cause %v", tc.err, got, tc.err.Err)
		}
	}
}

// TestAvroMemoryRegistryContext: a context that has ended is a registry
// failure to answer, and transient, as a remote registry's would be.
func TestAvroMemoryRegistryContext(t *testing.T) {
	reg := NewMemoryRegistry()
	s := MustParse(`{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		cause  error
		call   func(ctx context.Context) error
		wantOp string
	}{
		{"register cancelled", cancelled, context.Canceled,
			func(ctx context.Context) error { _, err := reg.Register(ctx, "events-value", s); return err },
			`register subject "events-value"`},
		{"lookup cancelled", cancelled, context.Canceled,
			func(ctx context.Context) error { _, err := reg.ByID(ctx, 7); return err }, "lookup id 7"},
		{"lookup deadline", expired, context.DeadlineExceeded,
			func(ctx context.Context) error { _, err := reg.ByID(ctx, 7); return err }, "lookup id 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(tc.ctx)
			var re *RegistryError
			if !errors.As(err, &re) || re.Op != tc.wantOp || !errors.Is(err, tc.cause) {
				t.Fatalf("error %v, want a *RegistryError for %q wrapping %v", err, tc.wantOp, tc.cause)
			}
			if !Transient(err) {
				t.Errorf("Transient(%v) = false", err)
			}
		})
	}
	if _, err := reg.ByID(context.Background(), 7); !errors.Is(err, ErrUnknownSchema) || Transient(err) {
		t.Errorf("unknown id: %v, want permanent ErrUnknownSchema", err)
	}
}

// flakyRegistry fails ByID with err until it is cleared, then answers from
// a MemoryRegistry.
type flakyRegistry struct {
	*MemoryRegistry
	err   error
	calls atomic.Int32
}

func (f *flakyRegistry) ByID(ctx context.Context, id int) (*Schema, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return f.MemoryRegistry.ByID(ctx, id)
}

// TestAvroSerdeRegistryErrors: whatever a registry's ByID returns, the
// error out of Unmarshal keeps its cause and classifies right: I/O is
// transient however the client reports it, a definite "unknown id" is not.
func TestAvroSerdeRegistryErrors(t *testing.T) {
	writer := MustParse(`{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}`)
	reader := MustParse(`{"type":"record","name":"Event","fields":[{"name":"id","type":"string"},{"name":"n","type":"int","default":0}]}`)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name      string
		err       error
		transient bool
		wantIn    string // in the error text
	}{
		{"raw network error", refused, true, "schema registry: lookup id 1: dial tcp: connection refused"},
		{"bare deadline", context.DeadlineExceeded, true, "lookup id 1: context deadline exceeded"},
		{"bare cancel", context.Canceled, true, "lookup id 1: context canceled"},
		{"registry error", &RegistryError{Op: "GET /schemas/ids/1", Err: errors.New("HTTP 502")}, true, "schema registry: GET /schemas/ids/1: HTTP 502"},
		{"unknown id", fmt.Errorf("%w: id 1 (HTTP 404)", ErrUnknownSchema), false, "unknown writer schema: id 1 (HTTP 404)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &flakyRegistry{MemoryRegistry: NewMemoryRegistry()}
			msg, err := NewSerde(writer, WithRegistry(reg, "events-value")).Marshal(map[string]any{"id": "e1"})
			if err != nil {
				t.Fatal(err)
			}
			reg.err = tc.err
			consumer := NewSerde(reader, WithRegistry(reg, "events-value"))
			var m map[string]any
			err = consumer.Unmarshal(msg, &m)
			if err == nil || Transient(err) != tc.transient || !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("Unmarshal: %v (transient %v), want an error wrapping %v, transient %v, containing %q",
					err, Transient(err), tc.err, tc.transient, tc.wantIn)
			}
			// A failed lookup is not remembered: once the registry answers,
			// the retry decodes.
			reg.err = nil
			if err := consumer.Unmarshal(msg, &m); err != nil || m["id"] != "e1" {
				t.Errorf("retry: %v %v", m, err)
			}
		})
	}
}
