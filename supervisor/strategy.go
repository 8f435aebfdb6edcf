package supervisor

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
)

// Crashable is implemented by messages that carry records to a handler
// actor. When the actor panics while handling such a message, the strategy
// hands the panic to the message before the restart, so the record it was
// working on is failed (and retried or dead-lettered by its owner) instead
// of being dropped with the failed actor's mailbox slot.
type Crashable interface {
	Crashed(reason any)
}

// RestartStrategy is the supervisor strategy of handler actors: a crashed
// child is always restarted (per-record attempts, not per-actor restarts,
// are what the retry policy counts), and the message it was processing is
// told of the crash through Crashable.
type RestartStrategy struct {
	// Logger receives one line per crash. Nil discards.
	Logger *slog.Logger
}

var _ actor.SupervisorStrategy = RestartStrategy{}

// HandleFailure implements actor.SupervisorStrategy.
func (s RestartStrategy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, message any) {
	msg := actor.UnwrapEnvelopeMessage(message)
	if c, ok := msg.(Crashable); ok {
		c.Crashed(reason)
	} else if s.Logger != nil {
		s.Logger.Error("handler actor crashed outside a record; restarting it", "actor", child.Id, "reason", reason)
	}
	sup.RestartChildren(child)
}
