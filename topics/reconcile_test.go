package topics

import (
	"slices"
	"strings"
	"testing"
)

func TestReconcile(t *testing.T) {
	a, _ := newAdmin(t)
	ctx := testCtx(t)

	// The cluster before: "events" with 1 partition (to grow), "wide"
	// with 4 (declared fewer), "tuned" with a config value that differs,
	// and "stray", which nobody declares.
	for _, tp := range []Topic{
		{Name: "events", Partitions: 1},
		{Name: "wide", Partitions: 4},
		{Name: "tuned", Config: map[string]string{"retention.ms": "1000"}},
		{Name: "stray"},
	} {
		if err := a.Create(ctx, tp, false); err != nil {
			t.Fatalf("Create(%s) = %v", tp.Name, err)
		}
	}

	declared := []Topic{
		{Name: "orders", Partitions: 2, Config: map[string]string{"cleanup.policy": "compact"}},
		{Name: "events", Partitions: 3},
		{Name: "wide", Partitions: 2},
		{Name: "tuned", Config: map[string]string{"retention.ms": "2000", "cleanup.policy": "delete"}},
	}
	rep, err := a.Reconcile(ctx, declared)
	if err != nil {
		t.Fatalf("Reconcile = %v", err)
	}
	if !slices.Equal(rep.Created, []string{"orders"}) {
		t.Errorf("Created = %v, want [orders]", rep.Created)
	}
	if !slices.Equal(rep.Grown, []Growth{{Topic: "events", From: 1, To: 3}}) {
		t.Errorf("Grown = %v, want events 1->3", rep.Grown)
	}
	wantDrift := []string{
		`topic "wide": partitions: declared 2, cluster has 4`,
		`topic "tuned": config retention.ms: declared "2000", cluster has "1000"`,
	}
	if len(rep.Drift) != len(wantDrift) {
		t.Errorf("Drift = %q, want %d entries", rep.Drift, len(wantDrift))
	}
	for _, w := range wantDrift {
		if !slices.ContainsFunc(rep.Drift, func(d string) bool { return strings.HasPrefix(d, w) }) {
			t.Errorf("Drift = %q, want an entry starting %q", rep.Drift, w)
		}
	}
	if !rep.Changed() {
		t.Error("Changed() = false after creating and growing")
	}
	s := rep.String()
	for _, w := range []string{`created topic "orders"`, `grew topic "events" from 1 to 3 partitions`, `drift: topic "wide"`} {
		if !strings.Contains(s, w) {
			t.Errorf("String() = %q, want it to contain %q", s, w)
		}
	}

	// The cluster now matches what could be fixed.
	for name, want := range map[string]int32{"orders": 2, "events": 3, "wide": 4} {
		info, err := a.Describe(ctx, name)
		if err != nil {
			t.Fatalf("Describe(%s) = %v", name, err)
		}
		if info.Partitions != want {
			t.Errorf("%s has %d partitions, want %d", name, info.Partitions, want)
		}
	}
	if info, _ := a.Describe(ctx, "orders"); info.Config["cleanup.policy"] != "compact" {
		t.Errorf("orders config = %v, want cleanup.policy=compact", info.Config)
	}

	// A second run changes nothing and still reports the drift.
	again, err := a.Reconcile(ctx, declared)
	if err != nil {
		t.Fatalf("second Reconcile = %v", err)
	}
	if again.Changed() || len(again.Created) != 0 || len(again.Grown) != 0 {
		t.Errorf("second Reconcile changed the cluster: %+v", again)
	}
	if !slices.Equal(again.Drift, rep.Drift) {
		t.Errorf("second Reconcile Drift = %q, want %q", again.Drift, rep.Drift)
	}
}

func TestReconcileReplicationDrift(t *testing.T) {
	a, _ := newAdmin(t)
	ctx := testCtx(t)
	if err := a.Create(ctx, Topic{Name: "orders"}, false); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Reconcile(ctx, []Topic{{Name: "orders", ReplicationFactor: 3}})
	if err != nil {
		t.Fatalf("Reconcile = %v", err)
	}
	want := `topic "orders": replication factor: declared 3, cluster has 1`
	if len(rep.Drift) != 1 || !strings.HasPrefix(rep.Drift[0], want) {
		t.Errorf("Drift = %q, want one entry starting %q", rep.Drift, want)
	}
}

func TestReportStringEmpty(t *testing.T) {
	if got := (Report{}).String(); got != "topics: up to date" {
		t.Errorf("empty Report.String() = %q", got)
	}
}
