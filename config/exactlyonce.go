package config

// checkExactlyOnce checks consumers[i].exactly_once against what it
// needs: exactly once covers what a consumer writes to Kafka, which of
// the built-in kinds only forward does (exec, http and log act outside
// Kafka, where a transaction cannot reach, so the key would be ignored),
// and an exactly-once consumer runs in partition order.
func (cs Consumer) checkExactlyOnce(ck *checker, key string) {
	if !cs.ExactlyOnce {
		return
	}
	if cs.Handler.Forward == nil {
		if kinds := cs.Handler.Kinds(); len(kinds) == 1 {
			ck.add(key+".exactly_once", "true with a %s handler: exactly once covers records written to Kafka, so it needs handler.forward (a %s handler acts outside Kafka and runs at least once)", kinds[0], kinds[0])
		}
		return
	}
	if cs.Ordering != "" && cs.Ordering != OrderingPartition {
		ck.add(key+".exactly_once", "true with ordering %q: an exactly-once consumer runs in partition order (each transaction commits the offsets of exactly the records whose outputs it holds); remove ordering or set it to partition", cs.Ordering)
	}
}
