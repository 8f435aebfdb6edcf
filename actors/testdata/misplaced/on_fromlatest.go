// want: cannot use actors.FromLatest() (value of interface type actors.ConsumerOption) as actors.EventOption value in argument to actors.On: actors.ConsumerOption does not implement actors.EventOption (missing method applyEvent)

// FromLatest is a consumer group's; the events group is the runtime's.
package misplaced

import (
	"context"

	"github.com/actord/actord/actors"
)

func onWithFromLatest(rt *actors.Runtime) error {
	return actors.On(rt, "user.registered", func(context.Context, actors.Message[string]) error { return nil },
		actors.FromLatest())
}
