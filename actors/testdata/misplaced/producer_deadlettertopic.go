// want: cannot use actors.DeadLetterTopic("orders.dlq") (value of interface type actors.HandlerOption) as actors.ProducerOption value in argument to actors.NewProducer[string]: actors.HandlerOption does not implement actors.ProducerOption (missing method applyProducer)

// DeadLetterTopic is where a handler's failed records go; a producer
// reports a failure to its caller.
package misplaced

import "github.com/actord/actord/actors"

func producerWithDeadLetterTopic(rt *actors.Runtime) (*actors.Producer[string], error) {
	return actors.NewProducer[string](rt, "orders", actors.DeadLetterTopic("orders.dlq"))
}
