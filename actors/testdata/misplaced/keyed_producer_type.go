// want: cannot use func(u userRegistered) string {…} (value of type func(u userRegistered) string) as func(orderPlaced) string value in argument to actors.NewKeyedProducer[orderPlaced]

// The key function takes the producer's own type: a function of another
// type does not compile.
package misplaced

import "github.com/actord/actord/actors"

type orderPlaced struct{ UserID string }

type userRegistered struct{ Email string }

func keyedProducerOfAnotherType(rt *actors.Runtime) (*actors.Producer[orderPlaced], error) {
	return actors.NewKeyedProducer[orderPlaced](rt, "orders", func(u userRegistered) string { return u.Email })
}
