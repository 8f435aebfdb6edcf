package schema

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// Registry stores schemas under subjects and gives each distinct schema an
// id, as Confluent Schema Registry does. MemoryRegistry is the in-process
// implementation; a client of a Schema Registry server implements the same
// interface, so producers and consumers take either without change.
//
// Implementations are safe for concurrent use. Their errors tell a caller
// what to do with the record at hand (see Transient):
//
//   - a *RegistryError when the registry could not answer: it could not be
//     reached, timed out, answered 5xx, or ctx ended first. Worth a retry.
//   - an error wrapping ErrUnknownSchema when ByID's id does not exist (a
//     404): definite, so permanent.
//   - any other error from Register when the registry refuses the schema
//     (an empty subject, a schema incompatible with the subject's): the
//     same schema is refused again, so permanent.
//
// Serde takes any other error from ByID to be I/O and wraps it in a
// *RegistryError, since a lookup has no definite answer but found or not
// found; a client that reports raw network errors is retried, not
// dead-lettered.
type Registry interface {
	// Register adds s under subject (if it is not there yet) and returns
	// its id. Registering the same schema again returns the same id.
	Register(ctx context.Context, subject string, s *Schema) (id int, err error)
	// ByID returns the schema with the given id; an unknown id is an error
	// wrapping ErrUnknownSchema, a failure to answer a *RegistryError.
	ByID(ctx context.Context, id int) (*Schema, error)
	// ByFingerprint returns a schema this registry knows (has registered
	// or fetched) whose canonical form has the given CRC-64-AVRO
	// fingerprint. It never does I/O, so it cannot fail.
	ByFingerprint(fp uint64) (*Schema, bool)
}

// MemoryRegistry is a Registry held in memory: ids count from 1, and a
// schema with the same canonical form as one registered before gets that
// schema's id.
type MemoryRegistry struct {
	mu       sync.RWMutex
	byID     []*Schema // id-1 -> schema
	idByFP   map[uint64]int
	subjects map[string][]int
}

var _ Registry = (*MemoryRegistry)(nil)

// NewMemoryRegistry returns an empty in-process registry.
func NewMemoryRegistry() *MemoryRegistry {
	return &MemoryRegistry{idByFP: map[uint64]int{}, subjects: map[string][]int{}}
}

// Register implements Registry. A ctx that has ended is a *RegistryError,
// as a remote registry's would be, so code tested against MemoryRegistry
// handles it as it must in production.
func (r *MemoryRegistry) Register(ctx context.Context, subject string, s *Schema) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, &RegistryError{Op: "register subject " + strconv.Quote(subject), Err: err}
	}
	if s == nil {
		return 0, errors.New("schema registry: register a nil schema")
	}
	if subject == "" {
		return 0, errors.New("schema registry: empty subject")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.idByFP[s.fp]
	if !ok {
		r.byID = append(r.byID, s)
		id = len(r.byID)
		r.idByFP[s.fp] = id
	}
	for _, v := range r.subjects[subject] {
		if v == id {
			return id, nil
		}
	}
	r.subjects[subject] = append(r.subjects[subject], id)
	return id, nil
}

// ByID implements Registry. A ctx that has ended is a *RegistryError, as
// with Register; an unknown id wraps ErrUnknownSchema.
func (r *MemoryRegistry) ByID(ctx context.Context, id int) (*Schema, error) {
	if err := ctx.Err(); err != nil {
		return nil, &RegistryError{Op: "lookup id " + strconv.Itoa(id), Err: err}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if id < 1 || id > len(r.byID) {
		return nil, fmt.Errorf("%w: no schema with registry id %d", ErrUnknownSchema, id)
	}
	return r.byID[id-1], nil
}

// ByFingerprint implements Registry.
func (r *MemoryRegistry) ByFingerprint(fp uint64) (*Schema, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, ok := r.idByFP[fp]
	if !ok {
		return nil, false
	}
	return r.byID[id-1], true
}

// Versions returns the ids registered under subject, oldest first.
func (r *MemoryRegistry) Versions(subject string) []int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]int(nil), r.subjects[subject]...)
}
