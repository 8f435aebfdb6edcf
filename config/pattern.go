package config

import "github.com/actord/actord/actors"

// checkSource checks consumers[].topic and topic_pattern: exactly one of
// them, a valid topic name or a pattern that compiles, and for a pattern
// what cannot go with it: a retry topic (one source topic's), a batch or
// exactly-once handler (declared per topic), and a dead-letter or forward
// topic that the pattern matches (its records would loop back in).
func (cs Consumer) checkSource(ck *checker, key string) {
	switch {
	case cs.TopicPattern == "":
		if cs.Topic == "" {
			ck.add(key+".topic", "required (or topic_pattern)")
			return
		}
		ck.topic(key+".topic", cs.Topic)
		return
	case cs.Topic != "":
		ck.add(key+".topic_pattern", "set with topic %q: give one of them", cs.Topic)
		return
	}
	re, err := actors.CompileTopicPattern(cs.TopicPattern)
	if err != nil {
		ck.add(key+".topic_pattern", "%v", err)
		return
	}
	if cs.RetryTopic != "" {
		ck.add(key+".retry_topic", "not with topic_pattern: a retry topic holds one source topic's records")
	}
	if cs.ExactlyOnce {
		ck.add(key+".exactly_once", "not with topic_pattern (an exactly-once consumer is declared per topic)")
	}
	if h := cs.Handler; h.HTTP != nil && h.HTTP.Batch != nil {
		ck.add(key+".handler.http.batch", "not with topic_pattern (a batch consumer is declared per topic)")
	} else if h.Exec != nil && h.Exec.Batch != nil {
		ck.add(key+".handler.exec.batch", "not with topic_pattern (a batch consumer is declared per topic)")
	}
	matches := func(k, topic string) {
		if topic != "" && re.MatchString(topic) {
			ck.add(k, "%q matches topic_pattern %q: its records would be consumed again", topic, cs.TopicPattern)
		}
	}
	matches(key+".dead_letter_topic", cs.DeadLetterTopic)
	if f := cs.Handler.Forward; f != nil {
		matches(key+".handler.forward.topic", f.Topic)
	}
}

// Source is what the consumer reads: its topic, or its topic pattern.
func (cs Consumer) Source() string {
	if cs.TopicPattern != "" {
		return cs.TopicPattern
	}
	return cs.Topic
}
