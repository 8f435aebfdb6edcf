package dlq

import (
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout bounds each wait of a read or replay when [Timeout] is
// not given: for offsets, for records of a partition not yet at its end,
// for a group assignment, for a produce and for a commit. It matches the
// daemon's default kafka.request_timeout.
const DefaultTimeout = 10 * time.Second

// DefaultGroupPrefix starts the consumer group [ReplayTopic] records its
// progress with when [Group] is not given: DefaultGroupPrefix + the
// dead-letter topic, as `actord dlq replay` has always used.
const DefaultGroupPrefix = "actord-dlq-replay-"

// ErrInvalidOption is matched (errors.Is) by the error of a call given an
// option with a bad value; the message names the option and the value.
var ErrInvalidOption = errors.New("invalid option")

// ReadOption configures [Read] and [Scan].
type ReadOption interface{ applyRead(*readConfig) }

// ReplayOption configures [Replay]. Every ReplayOption is also a
// [TopicReplayOption].
type ReplayOption interface {
	TopicReplayOption
	applyReplay(*replayConfig)
}

// TopicReplayOption configures [ReplayTopic].
type TopicReplayOption interface{ applyTopicReplay(*topicReplayConfig) }

type readConfig struct {
	timeout    time.Duration
	partitions []int32
	match      []func(Letter) bool
	limit      int
	problems   []error
}

type replayConfig struct {
	timeout    time.Duration
	to         string
	dryRun     bool
	create     bool
	checkTopic func(string) error
	problems   []error
}

type topicReplayConfig struct {
	replayConfig
	group string
}

func invalid(option string, value any, why string) error {
	return fmt.Errorf("dlq.%s(%v): %s: %w", option, value, why, ErrInvalidOption)
}

type timeoutOpt time.Duration

func (o timeoutOpt) check() error {
	if o <= 0 {
		return invalid("Timeout", time.Duration(o), "must be positive")
	}
	return nil
}
func (o timeoutOpt) applyRead(c *readConfig) {
	c.timeout = time.Duration(o)
	c.problems = append(c.problems, o.check())
}
func (o timeoutOpt) applyReplay(c *replayConfig) {
	c.timeout = time.Duration(o)
	c.problems = append(c.problems, o.check())
}
func (o timeoutOpt) applyTopicReplay(c *topicReplayConfig) { o.applyReplay(&c.replayConfig) }

// TimeoutOption is what [Timeout] returns: valid for reads and replays.
type TimeoutOption interface {
	ReadOption
	ReplayOption
}

// Timeout bounds each wait of a call (default [DefaultTimeout]): for the
// topic's offsets, for the next records of a partition that has not
// reached its end, for a group assignment, for one batch's produce and for
// one commit. A partition that gives nothing for this long is an error
// naming it and its offsets, not a hang. It must be positive. The context
// bounds the whole call besides.
func Timeout(d time.Duration) TimeoutOption { return timeoutOpt(d) }

type readFunc func(*readConfig)

func (f readFunc) applyRead(c *readConfig) { f(c) }

// Partitions reads only these partitions of the dead-letter topic; the
// others are not fetched. A partition the topic does not have is an error
// of the call. Without it every partition is read.
func Partitions(ps ...int32) ReadOption {
	return readFunc(func(c *readConfig) {
		if len(ps) == 0 {
			c.problems = append(c.problems, invalid("Partitions", "", "want at least one partition"))
		}
		c.partitions = append(c.partitions, ps...)
	})
}

// Source keeps the dead letters whose original topic ([HeaderTopic]) is
// topic. A record that is not a dead letter never matches. Filters only
// select: every record up to the end offsets is still fetched.
func Source(topic string) ReadOption {
	return readFunc(func(c *readConfig) {
		c.match = append(c.match, func(l Letter) bool { return l.Has(HeaderTopic) && l.Topic == topic })
	})
}

// SourceOffset keeps the dead letters of the original record at partition
// and offset ([HeaderPartition], [HeaderOffset]); with [Source], of one
// topic. A record that is not a dead letter never matches.
func SourceOffset(partition int32, offset int64) ReadOption {
	return readFunc(func(c *readConfig) {
		c.match = append(c.match, func(l Letter) bool {
			return l.Has(HeaderPartition) && l.Has(HeaderOffset) && l.Partition == partition && l.Offset == offset
		})
	})
}

// Where keeps the letters keep returns true for, including those that are
// not dead letters (their [Letter.Err] is set). Several filters must all
// keep a letter.
func Where(keep func(Letter) bool) ReadOption {
	return readFunc(func(c *readConfig) {
		if keep == nil {
			c.problems = append(c.problems, invalid("Where", nil, "want a function"))
			return
		}
		c.match = append(c.match, keep)
	})
}

// Limit stops after n letters that pass the filters, fetching no further.
// With several partitions, which n come first depends on fetch order
// (each partition is still in offset order). n must be at least 1.
func Limit(n int) ReadOption {
	return readFunc(func(c *readConfig) {
		if n < 1 {
			c.problems = append(c.problems, invalid("Limit", n, "must be at least 1"))
		}
		c.limit = n
	})
}

func newReadConfig(opts []ReadOption) (readConfig, error) {
	c := readConfig{timeout: DefaultTimeout}
	for _, o := range opts {
		o.applyRead(&c)
	}
	return c, errors.Join(c.problems...)
}

func (c *readConfig) keep(l Letter) bool {
	for _, m := range c.match {
		if !m(l) {
			return false
		}
	}
	return true
}

type replayFunc func(*replayConfig)

func (f replayFunc) applyReplay(c *replayConfig)           { f(c) }
func (f replayFunc) applyTopicReplay(c *topicReplayConfig) { f(&c.replayConfig) }

// To sends every letter to topic instead of its original topic
// ([HeaderTopic]), so letters without one replay too. topic must not be
// empty, and is checked by [CheckTopic] when given.
func To(topic string) ReplayOption {
	return replayFunc(func(c *replayConfig) {
		if topic == "" {
			c.problems = append(c.problems, invalid("To", `""`, "want a topic"))
		}
		c.to = topic
	})
}

// DryRun produces nothing and commits nothing: the report counts what
// would be replayed where, and a letter without a destination is the same
// error as in a real run.
func DryRun() ReplayOption {
	return replayFunc(func(c *replayConfig) { c.dryRun = true })
}

// CreateTopics lets the replay's producer create a destination that does
// not exist, where the cluster allows it (kgo.AllowAutoTopicCreation), as
// `actord dlq replay` does. Without it a missing destination fails the
// produce after [Timeout].
func CreateTopics() ReplayOption {
	return replayFunc(func(c *replayConfig) { c.create = true })
}

// CheckTopic checks each destination name before anything is produced (for
// example topics.ValidateName); a name it rejects stops the replay with a
// [DestinationError] carrying its error. Without it names are left to the
// broker.
func CheckTopic(check func(name string) error) ReplayOption {
	return replayFunc(func(c *replayConfig) {
		if check == nil {
			c.problems = append(c.problems, invalid("CheckTopic", nil, "want a function"))
		}
		c.checkTopic = check
	})
}

type groupOpt string

func (o groupOpt) applyTopicReplay(c *topicReplayConfig) {
	if o == "" {
		c.problems = append(c.problems, invalid("Group", `""`, "want a group name"))
	}
	c.group = string(o)
}

// Group is the consumer group [ReplayTopic] reads with and commits each
// replayed dead letter to (default [DefaultGroupPrefix] + the topic).
func Group(name string) TopicReplayOption { return groupOpt(name) }

func newReplayConfig(opts []ReplayOption) (replayConfig, error) {
	c := replayConfig{timeout: DefaultTimeout}
	for _, o := range opts {
		o.applyReplay(&c)
	}
	return c, errors.Join(c.problems...)
}

func newTopicReplayConfig(topic string, opts []TopicReplayOption) (topicReplayConfig, error) {
	c := topicReplayConfig{replayConfig: replayConfig{timeout: DefaultTimeout}}
	for _, o := range opts {
		o.applyTopicReplay(&c)
	}
	if c.group == "" {
		c.group = DefaultGroupPrefix + topic
	}
	if c.to == topic {
		c.problems = append(c.problems, invalid("To", topic, "is the dead-letter topic itself"))
	}
	return c, errors.Join(c.problems...)
}
