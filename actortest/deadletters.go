package actortest

import (
	"testing"

	"github.com/actord/actord/dlq"
)

// WaitDeadLetters waits until the dead-letter topic holds n letters and
// returns them parsed (original topic, partition, offset, group, error,
// attempts, key, value and headers), failing t when fewer arrive within
// Timeout or one is not a dead letter.
func WaitDeadLetters(t testing.TB, c Cluster, topic string, n int) []dlq.Letter {
	t.Helper()
	recs := ReadTopic(t, c, topic, n)
	out := make([]dlq.Letter, 0, len(recs))
	for _, r := range recs {
		l, err := dlq.Parse(r)
		if err != nil {
			t.Fatalf("actortest: %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
		}
		out = append(out, l)
	}
	return out
}
