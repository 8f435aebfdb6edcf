package topics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/broker"
)

func TestCreateListDescribeDelete(t *testing.T) {
	a, _ := newAdmin(t)
	ctx := testCtx(t)

	orders := Topic{Name: "orders", Partitions: 3, Config: map[string]string{"retention.ms": "1000"}}
	if err := a.Create(ctx, orders, false); err != nil {
		t.Fatalf("Create(orders) = %v", err)
	}
	if err := a.Create(ctx, Topic{Name: "audit"}, false); err != nil {
		t.Fatalf("Create(audit) = %v", err)
	}

	list, err := a.List(ctx)
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	want := []Info{{Name: "audit", Partitions: 1, ReplicationFactor: 1}, {Name: "orders", Partitions: 3, ReplicationFactor: 1}}
	if len(list) != len(want) {
		t.Fatalf("List = %+v, want %d topics", list, len(want))
	}
	for i, w := range want {
		got := list[i]
		if got.Name != w.Name || got.Partitions != w.Partitions || got.ReplicationFactor != w.ReplicationFactor {
			t.Errorf("List[%d] = %+v, want %+v", i, got, w)
		}
		if got.ID == "" {
			t.Errorf("List[%d].ID is empty", i)
		}
		if got.PartitionDetails != nil || got.Config != nil {
			t.Errorf("List[%d] carries Describe-only fields: %+v", i, got)
		}
	}

	info, err := a.Describe(ctx, "orders")
	if err != nil {
		t.Fatalf("Describe(orders) = %v", err)
	}
	if info.Name != "orders" || info.Partitions != 3 || info.ReplicationFactor != 1 {
		t.Errorf("Describe(orders) = %+v", info)
	}
	if len(info.PartitionDetails) != 3 {
		t.Fatalf("Describe(orders).PartitionDetails = %+v, want 3", info.PartitionDetails)
	}
	for i, p := range info.PartitionDetails {
		if p.ID != int32(i) || p.Leader < 0 || len(p.Replicas) != 1 || p.Error != "" {
			t.Errorf("partition %d = %+v", i, p)
		}
	}
	if got := info.Config["retention.ms"]; got != "1000" || len(info.Config) != 1 {
		t.Errorf("Describe(orders).Config = %v, want only retention.ms=1000", info.Config)
	}

	if err := a.Delete(ctx, "orders"); err != nil {
		t.Fatalf("Delete(orders) = %v", err)
	}
	list, err = a.List(ctx)
	if err != nil {
		t.Fatalf("List after delete = %v", err)
	}
	if len(list) != 1 || list[0].Name != "audit" {
		t.Errorf("List after delete = %+v, want only audit", list)
	}
}

func TestCreateExisting(t *testing.T) {
	a, _ := newAdmin(t)
	ctx := testCtx(t)
	if err := a.Create(ctx, Topic{Name: "orders", Partitions: 2}, false); err != nil {
		t.Fatalf("Create = %v", err)
	}
	err := a.Create(ctx, Topic{Name: "orders", Partitions: 5}, false)
	if err == nil || err.Error() != `topic "orders" already exists` {
		t.Fatalf("Create(existing) = %v, want `topic \"orders\" already exists`", err)
	}
	if !errors.Is(err, ErrTopicExists) || !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Errorf("Create(existing) = %v, want it to match ErrTopicExists and kerr.TopicAlreadyExists", err)
	}
	if err := a.Create(ctx, Topic{Name: "orders", Partitions: 5}, true); err != nil {
		t.Fatalf("Create(existing, ifNotExists) = %v, want nil", err)
	}
	info, err := a.Describe(ctx, "orders")
	if err != nil {
		t.Fatalf("Describe = %v", err)
	}
	if info.Partitions != 2 {
		t.Errorf("partitions after ifNotExists = %d, want 2 (unchanged)", info.Partitions)
	}
}

func TestMissingTopic(t *testing.T) {
	// Auto-creation on: Describe must still not create the topic.
	a, _ := newAdminWith(t, broker.Config{Listen: "127.0.0.1:0", DefaultPartitions: 1, AutoCreateTopics: true})
	ctx := testCtx(t)

	_, err := a.Describe(ctx, "ghost")
	if !errors.Is(err, ErrUnknownTopic) || err.Error() != `topic "ghost" does not exist` {
		t.Errorf("Describe(ghost) = %v, want `topic \"ghost\" does not exist`", err)
	}
	err = a.Delete(ctx, "ghost")
	if !errors.Is(err, ErrUnknownTopic) || err.Error() != `topic "ghost" does not exist` {
		t.Errorf("Delete(ghost) = %v, want `topic \"ghost\" does not exist`", err)
	}
	list, err := a.List(ctx)
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	if len(list) != 0 {
		t.Errorf("List = %+v, want no topics (nothing auto-created)", list)
	}
}

func TestClusterRefusal(t *testing.T) {
	a, _ := newAdmin(t)
	err := a.Create(testCtx(t), Topic{Name: "orders", ReplicationFactor: 3}, false)
	if err == nil || !errors.Is(err, kerr.InvalidReplicationFactor) || !strings.Contains(err.Error(), `create topic "orders"`) {
		t.Errorf("Create(rf 3 on one broker) = %v, want INVALID_REPLICATION_FACTOR naming the topic", err)
	}
}

// Invalid input is refused before any network call: against an address
// nobody listens on, the answer is immediate and is the validation error.
func TestValidationBeforeNetwork(t *testing.T) {
	a, err := NewAdminFromOpts(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	checks := []struct {
		op  string
		err error
	}{
		{"Create", a.Create(ctx, Topic{Name: "bad name"}, false)},
		{"Describe", func() error { _, err := a.Describe(ctx, ".."); return err }()},
		{"Delete", a.Delete(ctx, "")},
		{"Reconcile", func() error { _, err := a.Reconcile(ctx, []Topic{{Name: "a"}, {Name: "a"}}); return err }()},
	}
	for _, c := range checks {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), "topic ") {
			t.Errorf("%s = %v, want a validation error naming the topic", c.op, c.err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("validation took %v: it went to the network", d)
	}
}

// Every call is bounded by its context: an unreachable cluster fails by the
// deadline instead of hanging.
func TestBoundedByContext(t *testing.T) {
	a, err := NewAdminFromOpts(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := a.List(ctx); err == nil {
		t.Fatal("List against nothing = nil error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("List took %v with a 500ms deadline", d)
	}
}
