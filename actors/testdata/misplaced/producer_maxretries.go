// want: cannot use actors.MaxRetries(5) (value of interface type actors.HandlerOption) as actors.ProducerOption value in argument to actors.NewProducer[string]: actors.HandlerOption does not implement actors.ProducerOption (missing method applyProducer)

// MaxRetries is a handler's; a producer's retries are franz-go's, bounded
// by actors.RequestTimeout.
package misplaced

import "github.com/actord/actord/actors"

func producerWithMaxRetries(rt *actors.Runtime) (*actors.Producer[string], error) {
	return actors.NewProducer[string](rt, "orders", actors.MaxRetries(5))
}
