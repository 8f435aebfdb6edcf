package config

import "github.com/actord/actord/actors"

// checkParking checks consumers[].retry_topic and retry_schedule: both or
// neither (one alone would be ignored), key ordering, a valid topic that is
// neither the consumed nor the dead-letter topic, and a schedule of 1 to
// actors.MaxRetrySchedule delays, each above 0 and at most
// actors.MaxRetryScheduleAt.
func (cs Consumer) checkParking(ck *checker, key string) {
	switch {
	case cs.RetryTopic == "" && len(cs.RetrySchedule) == 0:
		return
	case cs.RetryTopic == "":
		ck.add(key+".retry_schedule", "set without retry_topic (it would be ignored)")
		return
	case len(cs.RetrySchedule) == 0:
		ck.add(key+".retry_topic", "set without retry_schedule (say when parked records are tried again, e.g. [1m, 10m, 1h])")
		return
	}
	ck.topic(key+".retry_topic", cs.RetryTopic)
	dlq := cs.DeadLetterTopic
	if dlq == "" {
		dlq = cs.Topic + actors.DefaultDeadLetterSuffix
	}
	switch cs.RetryTopic {
	case cs.Topic:
		ck.add(key+".retry_topic", "%q is the consumed topic itself", cs.RetryTopic)
	case dlq:
		ck.add(key+".retry_topic", "%q is the dead-letter topic too", cs.RetryTopic)
	}
	if cs.Ordering != OrderingKey {
		ck.add(key+".retry_topic", "needs ordering: key (parking keeps each key's order), not %q", cs.Ordering)
	}
	if len(cs.RetrySchedule) > actors.MaxRetrySchedule {
		ck.add(key+".retry_schedule", "%d delays, at most %d", len(cs.RetrySchedule), actors.MaxRetrySchedule)
	}
	for i, d := range cs.RetrySchedule {
		if d <= 0 || d > actors.MaxRetryScheduleAt {
			ck.add(key+".retry_schedule", "delay %d is %s, want above 0 and at most %s", i+1, d, actors.MaxRetryScheduleAt)
		}
	}
}
