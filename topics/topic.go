package topics

import (
	"errors"
	"fmt"
)

// MaxNameLen is the longest topic name Kafka accepts.
const MaxNameLen = 249

// Topic declares one topic: its name, partition count, replication factor
// and the topic-level configs (for example "retention.ms") it must have.
// A zero Partitions or ReplicationFactor means 1.
type Topic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Config            map[string]string
}

// withDefaults returns t with a zero partition count and replication
// factor read as 1, the smallest topic Kafka can hold.
func (t Topic) withDefaults() Topic {
	if t.Partitions == 0 {
		t.Partitions = 1
	}
	if t.ReplicationFactor == 0 {
		t.ReplicationFactor = 1
	}
	return t
}

// Validate reports every problem of t at once (errors.Join), each naming
// the topic and the field: a name Kafka would reject, a negative partition
// count or replication factor, an empty config key. A nil result means
// Kafka will not refuse t for its shape (the cluster may still refuse it,
// for example a replication factor above its broker count).
func (t Topic) Validate() error {
	t = t.withDefaults()
	var errs []error
	if err := ValidateName(t.Name); err != nil {
		errs = append(errs, err)
	}
	if t.Partitions < 1 {
		errs = append(errs, fmt.Errorf("topic %q: partitions must be at least 1, got %d", t.Name, t.Partitions))
	}
	if t.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("topic %q: replication factor must be at least 1, got %d", t.Name, t.ReplicationFactor))
	}
	for k := range t.Config {
		if k == "" {
			errs = append(errs, fmt.Errorf("topic %q: config: empty key", t.Name))
		}
	}
	return errors.Join(errs...)
}

// ValidateName reports whether Kafka accepts name as a topic name: 1 to 249
// characters, only ASCII letters, digits, '.', '_' and '-', and neither "."
// nor "..". The error names the topic.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New(`topic "": name must not be empty`)
	case name == "." || name == "..":
		return fmt.Errorf("topic %q: name must not be \".\" or \"..\"", name)
	case len(name) > MaxNameLen:
		return fmt.Errorf("topic %q: name is %d characters long, at most %d are allowed", name, len(name), MaxNameLen)
	}
	for _, c := range name {
		if !validNameChar(c) {
			return fmt.Errorf("topic %q: name contains %q: only ASCII letters, digits, '.', '_' and '-' are allowed", name, c)
		}
	}
	return nil
}

func validNameChar(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// ValidateAll validates every topic and reports all problems at once
// (errors.Join), including names declared more than once. A nil result
// means Reconcile will not refuse ts before talking to the cluster.
func ValidateAll(ts []Topic) error {
	var errs []error
	seen := make(map[string]int, len(ts))
	for _, t := range ts {
		if err := t.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[t.Name]++; seen[t.Name] == 2 {
			errs = append(errs, fmt.Errorf("topic %q: declared more than once", t.Name))
		}
	}
	return errors.Join(errs...)
}
