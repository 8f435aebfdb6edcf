package topics

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen)
	tests := []struct {
		name    string
		topic   Topic
		wantErr []string // substrings of the error; none means valid
	}{
		{"plain", Topic{Name: "orders"}, nil},
		{"every allowed char", Topic{Name: "Orders.v1_dlq-2"}, nil},
		{"longest name", Topic{Name: long}, nil},
		{"zero means one", Topic{Name: "orders", Partitions: 0, ReplicationFactor: 0}, nil},
		{"explicit", Topic{Name: "orders", Partitions: 12, ReplicationFactor: 3, Config: map[string]string{"retention.ms": "1000"}}, nil},
		{"empty name", Topic{Name: ""}, []string{`topic ""`, "must not be empty"}},
		{"dot", Topic{Name: "."}, []string{`topic "."`, `must not be "." or ".."`}},
		{"dot dot", Topic{Name: ".."}, []string{`topic ".."`}},
		{"too long", Topic{Name: long + "a"}, []string{"250 characters", "at most 249"}},
		{"space", Topic{Name: "my orders"}, []string{`topic "my orders"`, `contains ' '`}},
		{"slash", Topic{Name: "a/b"}, []string{`contains '/'`}},
		{"non-ascii", Topic{Name: "bestellungen-ü"}, []string{`contains 'ü'`}},
		{"negative partitions", Topic{Name: "orders", Partitions: -1}, []string{`topic "orders": partitions must be at least 1, got -1`}},
		{"negative replication", Topic{Name: "orders", ReplicationFactor: -2}, []string{`topic "orders": replication factor must be at least 1, got -2`}},
		{"empty config key", Topic{Name: "orders", Config: map[string]string{"": "x"}}, []string{`topic "orders": config: empty key`}},
		{"every problem at once", Topic{Name: "a b", Partitions: -1, ReplicationFactor: -1}, []string{"contains", "partitions", "replication factor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.topic.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateAll(t *testing.T) {
	if err := ValidateAll([]Topic{{Name: "orders"}, {Name: "orders.dlq"}}); err != nil {
		t.Fatalf("ValidateAll(valid) = %v", err)
	}
	if err := ValidateAll(nil); err != nil {
		t.Fatalf("ValidateAll(nil) = %v", err)
	}
	err := ValidateAll([]Topic{
		{Name: "orders"},
		{Name: "bad name"},
		{Name: "orders", Partitions: 3},
		{Name: "orders"},
		{Name: "events", Partitions: -4},
	})
	if err == nil {
		t.Fatal("ValidateAll = nil, want errors")
	}
	msg := err.Error()
	for _, w := range []string{`topic "bad name"`, `topic "orders": declared more than once`, `topic "events": partitions must be at least 1`} {
		if !strings.Contains(msg, w) {
			t.Errorf("ValidateAll = %q, want it to contain %q", msg, w)
		}
	}
	if n := strings.Count(msg, "declared more than once"); n != 1 {
		t.Errorf("duplicate reported %d times, want once: %q", n, msg)
	}
}
