// want: cannot use actors.Key("user-1") (value of interface type actors.RecordOption) as actors.ConsumerOption value in argument to actors.Consume: actors.RecordOption does not implement actors.ConsumerOption (missing method applyConsumer)

// Key sets the key of records a producer writes; a consumer reads keys.
package misplaced

import (
	"context"

	"github.com/actord/actord/actors"
)

func consumeWithKey(rt *actors.Runtime) error {
	return actors.Consume(rt, "orders", "processor", func(context.Context, actors.Message[string]) error { return nil },
		actors.Key("user-1"))
}
