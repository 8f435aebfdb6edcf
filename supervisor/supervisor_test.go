package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/actord/actord/supervisor"
)

func TestDecide(t *testing.T) {
	plain := errors.New("x")
	cases := []struct {
		name string
		err  error
		want supervisor.Directive
	}{
		{"nil", nil, supervisor.Done},
		{"plain error", plain, supervisor.Retry},
		{"retry", supervisor.RetryError(plain), supervisor.Retry},
		{"permanent", supervisor.PermanentError(plain), supervisor.Permanent},
		{"wrapped permanent", fmt.Errorf("ctx: %w", supervisor.PermanentError(plain)), supervisor.Permanent},
		{"retry around permanent", supervisor.RetryError(supervisor.PermanentError(plain)), supervisor.Retry},
		{"joined with a permanent", errors.Join(plain, supervisor.PermanentError(plain)), supervisor.Permanent},
		{"panic", &supervisor.PanicError{Value: "boom"}, supervisor.Retry},
		{"timeout", fmt.Errorf("%w after 1s", supervisor.ErrHandlerTimeout), supervisor.Retry},
		{"cancelled", context.Canceled, supervisor.Retry},
	}
	for _, c := range cases {
		if got := supervisor.Decide(c.err); got != c.want {
			t.Errorf("%s: Decide = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPolicyRetriesAndDelays(t *testing.T) {
	p := supervisor.Policy{MaxRetries: 3, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}.WithDefaults()
	// max_retries 3 means at most 4 attempts.
	for attempt, want := range map[int]bool{1: true, 2: true, 3: true, 4: false} {
		if got := p.ShouldRetry(supervisor.Retry, attempt); got != want {
			t.Errorf("attempt %d: ShouldRetry = %v, want %v", attempt, got, want)
		}
	}
	if p.ShouldRetry(supervisor.Permanent, 1) {
		t.Error("a permanent failure is retried")
	}
	for retry, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		if got := p.Delay(retry); got != want {
			t.Errorf("Delay(%d) = %v, want %v", retry, got, want)
		}
	}
	j := p
	j.Jitter = 0.2
	for range 1000 {
		if d := j.Delay(2); d < 160*time.Millisecond || d > 240*time.Millisecond {
			t.Fatalf("jittered delay %v outside 200ms +/- 20%%", d)
		}
	}
}

func ExamplePolicy_Delay() {
	p := supervisor.Policy{MaxRetries: 3, Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2}
	for retry := 1; retry <= 3; retry++ {
		fmt.Println(p.Delay(retry))
	}
	// Output:
	// 100ms
	// 200ms
	// 400ms
}
