// want: cannot use actors.HandlerTimeout(time.Second) (value of interface type actors.ConsumerOption) as actors.EventOption value in argument to actors.On: actors.ConsumerOption does not implement actors.EventOption (missing method applyEvent)

// HandlerTimeout bounds a consumer's attempts; event handlers have none.
package misplaced

import (
	"context"
	"time"

	"github.com/actord/actord/actors"
)

func onWithHandlerTimeout(rt *actors.Runtime) error {
	return actors.On(rt, "user.registered", func(context.Context, actors.Message[string]) error { return nil },
		actors.HandlerTimeout(time.Second))
}
