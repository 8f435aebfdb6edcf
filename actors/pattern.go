package actors

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/partition"
	"github.com/actord/actord/topics"
)

// patternConsumer is a consumer of every topic whose name matches a
// regular expression (ConsumePattern). Each matching topic assigned to the
// group gets a consumer of its own, built from these options the first
// time one of its partitions is assigned: its own metrics, circuit
// breaker and default dead-letter topic "<topic>.dlq", as if it had been
// declared with Consume.
type patternConsumer struct {
	pattern string         // as given
	re      *regexp.Regexp // anchored: the whole name matches
	group   string
	opts    consumerOptions // applied, unchecked: check settles per topic
	dec     Decoder
	// exclude matches the topics it never consumes, its dead-letter
	// topics; nil when dead-lettering is off (exclusion).
	exclude *regexp.Regexp

	handle partition.HandlerFunc
	props  *actor.Props
	decode func(*kgo.Record) (any, error)
}

// ConsumePattern declares a consumer, in group, of every topic whose whole
// name matches the regular expression pattern (Go's RE2 syntax; the Java
// client's subscribe(Pattern)): the topics that exist when the group
// joins and those created later, found within MetadataMaxAge. Each
// matching topic is consumed as if declared with Consume and these
// options: its own ordering, metrics, circuit and dead-letter topic
// (default "<topic>.dlq"); the handler tells them apart by Message.Topic.
//
// A pattern never consumes the group's dead-letter and retry topics: with
// the default dead-letter topics every topic ending in ".dlq" is left
// out, with DeadLetterTopic that topic. A topic that a Consume of the same
// group names is that consumer's, whatever the patterns. RetryTopic is
// refused (a retry topic is one source topic's).
func ConsumePattern[T any](rt *Runtime, pattern, group string, fn func(context.Context, Message[T]) error, opts ...ConsumerOption) error {
	if fn == nil {
		return fmt.Errorf("consumer of pattern %q in %s: nil handler", pattern, group)
	}
	p, err := newPatternConsumer(rt, pattern, group, opts)
	if err != nil {
		return err
	}
	p.handle = typed(p.dec, fn)
	return rt.registerPattern(p)
}

// ConsumePatternWith is ConsumePattern whose records go to handler actors
// the service builds from props, as with ConsumeWith.
func ConsumePatternWith(rt *Runtime, pattern, group string, props *actor.Props, opts ...ConsumerOption) error {
	if props == nil {
		return fmt.Errorf("consumer of pattern %q in %s: nil props", pattern, group)
	}
	p, err := newPatternConsumer(rt, pattern, group, opts)
	if err != nil {
		return err
	}
	p.props = props
	if p.opts.decoder != nil || p.opts.schema != nil {
		p.decode = decodeAny(p.dec)
	}
	return rt.registerPattern(p)
}

func newPatternConsumer(rt *Runtime, pattern, group string, opts []ConsumerOption) (*patternConsumer, error) {
	o := applyConsumerOptions(rt, opts)
	var errs []error
	re, err := CompileTopicPattern(pattern)
	if err != nil {
		errs = append(errs, err)
	}
	if group == "" {
		errs = append(errs, errors.New("group is required"))
	}
	if o.retryTopic != "" {
		errs = append(errs, fmt.Errorf("actors.RetryTopic(%q): not with a topic pattern (a retry topic holds one source topic's records)", o.retryTopic))
	}
	// Checked on a copy: the dead-letter topic is settled per matched topic.
	chk := o
	errs = append(errs, chk.check(""))
	if re != nil && !o.noDeadLetter && o.deadLetter != "" && re.MatchString(o.deadLetter) {
		errs = append(errs, fmt.Errorf("actors.DeadLetterTopic(%q): matches the pattern itself (a failed record would loop)", o.deadLetter))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("consumer of pattern %q in %s: %w", pattern, group, err)
	}
	p := &patternConsumer{pattern: pattern, re: re, group: group, opts: o, dec: rt.decoderFor(o.handling)}
	if ex := p.exclusion(); ex != "" {
		p.exclude = regexp.MustCompile(ex)
	}
	return p, nil
}

// CompileTopicPattern compiles a topic pattern of ConsumePattern, anchored
// at both ends, so that "orders\..*" matches the whole name, as Java's
// Pattern.matches does.
func CompileTopicPattern(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New("topic pattern is empty")
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("topic pattern %q: %w", pattern, err)
	}
	return re, nil
}

// exclusion is the pattern of the topics p never consumes: its dead-letter
// topics ("" when dead-lettering is off).
func (p *patternConsumer) exclusion() string {
	switch {
	case p.opts.noDeadLetter:
		return ""
	case p.opts.deadLetter == "":
		return `^.*` + regexp.QuoteMeta(DefaultDeadLetterSuffix) + `$`
	}
	return `^` + regexp.QuoteMeta(p.opts.deadLetter) + `$`
}

// instance is the consumer of topic, a topic p matches.
func (p *patternConsumer) instance(rt *Runtime, topic string) (*consumer, error) {
	o := p.opts
	err := topics.ValidateName(topic)
	if err == nil {
		err = o.check(topic)
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s/%s (pattern %q): %w", topic, p.group, p.pattern, err)
	}
	c := &consumer{rt: rt, topic: topic, group: p.group, opts: o, dec: p.dec,
		m:      newConsumerMetrics(rt.metrics, topic, p.group),
		handle: p.handle, props: p.props, decode: p.decode}
	c.circuit = c.newCircuit()
	return c, nil
}

// registerPattern adds p to its group, before the runtime starts.
func (rt *Runtime) registerPattern(p *patternConsumer) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.started {
		return fmt.Errorf("consumer of pattern %q in %s: declare consumers before the runtime starts", p.pattern, p.group)
	}
	g := rt.groupFor(p.group)
	for _, q := range g.patterns {
		if q.pattern == p.pattern {
			return fmt.Errorf("consumer of pattern %q in %s: the group already has a consumer of this pattern", p.pattern, p.group)
		}
	}
	for t := range g.consumers() {
		if p.exclude != nil && p.exclude.MatchString(t) {
			return fmt.Errorf("consumer of pattern %q in %s: leaves out its dead-letter topics (%s), and so would stop the group's consumer of %q: consume that topic in another group", p.pattern, p.group, p.exclude, t)
		}
	}
	g.patterns = append(g.patterns, p)
	return nil
}

// conflicts refuses a consumer of a topic that a pattern of the group
// leaves out (franz-go's exclusions hold for every topic of the client).
func (g *group) conflicts(c *consumer) error {
	for _, p := range g.patterns {
		if p.exclude != nil && p.exclude.MatchString(c.topic) {
			return fmt.Errorf("consumer %s/%s: the group's consumer of pattern %q leaves out its dead-letter topics (%s), this one among them: consume it in another group", c.topic, c.group, p.pattern, p.exclude)
		}
	}
	return nil
}

// consumeOpts are the group client's subscription: its topics, or, with a
// pattern, regular expressions (each topic as its exact name), leaving
// out the dead-letter and retry topics of the group's consumers.
func (g *group) consumeOpts() []kgo.Opt {
	named := g.topics()
	if len(g.patterns) == 0 {
		return []kgo.Opt{kgo.ConsumeTopics(named...)}
	}
	include := make([]string, 0, len(named)+len(g.patterns))
	for _, t := range named {
		include = append(include, `^`+regexp.QuoteMeta(t)+`$`)
	}
	var exclude []string
	for _, p := range g.patterns {
		include = append(include, p.re.String())
		if p.exclude != nil {
			exclude = append(exclude, p.exclude.String())
		}
	}
	for _, c := range g.consumers() {
		for _, t := range []string{c.opts.deadLetter, c.opts.retryTopic} {
			if t != "" && !slices.Contains(named, t) {
				exclude = append(exclude, `^`+regexp.QuoteMeta(t)+`$`)
			}
		}
	}
	opts := []kgo.Opt{kgo.ConsumeRegex(), kgo.ConsumeTopics(include...)}
	if len(exclude) > 0 {
		opts = append(opts, kgo.ConsumeExcludeTopics(exclude...))
	}
	return opts
}

// consumerOf is the consumer of an assigned topic: the group's consumer
// of it, or a new one for the first pattern that matches it (nil when
// none does).
func (g *group) consumerOf(topic string) *consumer {
	if c := g.consumers()[topic]; c != nil {
		return c
	}
	for _, p := range g.patterns {
		if !p.re.MatchString(topic) {
			continue
		}
		c, err := p.instance(g.rt, topic)
		if err == nil {
			err = g.addConsumer(c)
		}
		if err != nil {
			g.log.Error("cannot consume a topic that matches a pattern", "topic", topic, "pattern", p.pattern, "error", err)
			return nil
		}
		g.log.Info("consuming a topic that matches a pattern", "topic", topic, "pattern", p.pattern)
		return c
	}
	return nil
}
