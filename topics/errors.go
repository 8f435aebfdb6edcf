package topics

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Errors callers branch on with errors.Is. The errors Admin returns read
// `topic "orders" already exists` and `topic "orders" does not exist`; they
// also match the Kafka error codes (kerr.TopicAlreadyExists,
// kerr.UnknownTopicOrPartition) behind them.
var (
	// ErrTopicExists: Create found the topic already there.
	ErrTopicExists = errors.New("topic already exists")
	// ErrUnknownTopic: Describe or Delete did not find the topic.
	ErrUnknownTopic = errors.New("topic does not exist")
)

// topicError names the topic of a sentinel error.
type topicError struct {
	name     string
	sentinel error
	code     *kerr.Error
	msg      string
}

func (e *topicError) Error() string { return fmt.Sprintf("topic %q %s", e.name, e.msg) }

func (e *topicError) Is(target error) bool {
	return target == e.sentinel || target == e.code
}

func existsError(name string) error {
	return &topicError{name: name, sentinel: ErrTopicExists, code: kerr.TopicAlreadyExists, msg: "already exists"}
}

func unknownTopicError(name string) error {
	return &topicError{name: name, sentinel: ErrUnknownTopic, code: kerr.UnknownTopicOrPartition, msg: "does not exist"}
}

// brokerError adds the broker's free-text explanation, when it sent one, to
// the error code it answered with.
func brokerError(err error, msg string) error {
	if msg == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}
