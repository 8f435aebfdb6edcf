package dlq_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/dlq"
)

func ExampleParse() {
	src := &kgo.Record{Topic: "orders", Partition: 1, Offset: 41, Key: []byte("customer-7"), Value: []byte(`{"id":7}`)}
	dl := dlq.Record("orders.dlq", src, dlq.Failure{
		Group: "processor", Attempts: 3, Err: errors.New("payment service: 503"), FailedAt: time.Now(),
	})

	l, err := dlq.Parse(dl)
	fmt.Println(l.Topic, l.Partition, l.Offset, l.Attempts, l.Error, string(l.Key), err)

	_, err = dlq.Parse(src)
	fmt.Println(err != nil && errors.Is(err, dlq.ErrNotDeadLetter))
	// Output:
	// orders 1 41 3 payment service: 503 customer-7 <nil>
	// true
}

// ExampleRead lists the dead letters of orders.dlq that came from orders
// (docs/dlq.md has the same example). It needs a cluster, so it has no
// output to check.
func ExampleRead() {
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:9092")) // a client that does not consume
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cl.Close()

	letters, err := dlq.Read(ctx, cl, "orders.dlq", dlq.Source("orders"), dlq.Timeout(10*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range letters {
		if l.Err != nil { // a record without valid actord.dlq.* headers
			continue
		}
		fmt.Printf("%s/%d@%d failed %d times: %s\n", l.Topic, l.Partition, l.Offset, l.Attempts, l.Error)
	}
}
