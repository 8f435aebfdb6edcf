package topics_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/broker"
	"github.com/actord/actord/topics"
)

func ExampleAdmin_Reconcile() {
	b, err := broker.Start(broker.Config{DefaultPartitions: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	adm, err := topics.NewAdminFromOpts(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		log.Fatal(err)
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	declared := []topics.Topic{
		{Name: "orders", Partitions: 3, Config: map[string]string{"retention.ms": "86400000"}},
		{Name: "orders.dlq"},
	}
	report, err := adm.Reconcile(ctx, declared)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report)

	// The declaration now wants another retention: Reconcile reports the
	// difference and leaves the cluster's value alone.
	declared[0].Config["retention.ms"] = "3600000"
	report, err = adm.Reconcile(ctx, declared)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report)
	// Output:
	// created topic "orders"
	// created topic "orders.dlq"
	// drift: topic "orders": config retention.ms: declared "3600000", cluster has "86400000"
}

func ExampleTopic_Validate() {
	err := topics.Topic{Name: "my orders", Partitions: -1}.Validate()
	fmt.Println(err)
	// Output:
	// topic "my orders": name contains ' ': only ASCII letters, digits, '.', '_' and '-' are allowed
	// topic "my orders": partitions must be at least 1, got -1
}
