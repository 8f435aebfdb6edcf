// want: cannot use actors.Ordering(actors.Unordered) (value of interface type actors.ConsumerOption) as actors.EventOption value in argument to actors.On: actors.ConsumerOption does not implement actors.EventOption (missing method applyEvent)

// Ordering is a consumer's; the event router orders by key itself.
package misplaced

import (
	"context"

	"github.com/actord/actord/actors"
)

func onWithOrdering(rt *actors.Runtime) error {
	return actors.On(rt, "user.registered", func(context.Context, actors.Message[string]) error { return nil },
		actors.Ordering(actors.Unordered))
}
