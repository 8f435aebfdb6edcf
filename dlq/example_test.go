package dlq_test

import (
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
