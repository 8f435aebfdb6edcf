// want: cannot use actors.Concurrency(8) (value of interface type actors.ConsumerOption) as actors.EventOption value in argument to actors.On: actors.ConsumerOption does not implement actors.EventOption (missing method applyEvent)

// Concurrency is a consumer's; every event handler has
// actors.DefaultEventConcurrency actors.
package misplaced

import (
	"context"

	"github.com/actord/actord/actors"
)

func onWithConcurrency(rt *actors.Runtime) error {
	return actors.On(rt, "user.registered", func(context.Context, actors.Message[string]) error { return nil },
		actors.Concurrency(8))
}
