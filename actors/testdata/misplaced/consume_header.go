// want: cannot use actors.Header("source", "web") (value of interface type actors.RecordOption) as actors.ConsumerOption value in argument to actors.Consume: actors.RecordOption does not implement actors.ConsumerOption (missing method applyConsumer)

// Header adds a header to records a producer writes; a consumer reads
// headers.
package misplaced

import (
	"context"

	"github.com/actord/actord/actors"
)

func consumeWithHeader(rt *actors.Runtime) error {
	return actors.Consume(rt, "orders", "processor", func(context.Context, actors.Message[string]) error { return nil },
		actors.Header("source", "web"))
}
