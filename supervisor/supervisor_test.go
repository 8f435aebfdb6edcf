package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
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
	p := supervisor.Policy{MaxRetries: 3, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
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

func TestDefaultPolicyIsTheConstantsAndValid(t *testing.T) {
	want := supervisor.Policy{
		MaxRetries: supervisor.DefaultMaxRetries, Initial: supervisor.DefaultInitialBackoff,
		Max: supervisor.DefaultMaxBackoff, Multiplier: supervisor.DefaultMultiplier, Jitter: supervisor.DefaultJitter,
	}
	if got := supervisor.DefaultPolicy(); got != want {
		t.Fatalf("DefaultPolicy() = %+v, want %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Fatalf("the default policy is invalid: %v", err)
	}
}

// Every bad field is an error that names the field and its value; nothing
// is clamped.
func TestPolicyValidate(t *testing.T) {
	ok := supervisor.DefaultPolicy()
	with := func(f func(*supervisor.Policy)) supervisor.Policy {
		p := ok
		f(&p)
		return p
	}
	cases := []struct {
		name string
		p    supervisor.Policy
		want []string // in the message; none: valid
	}{
		{"default", ok, nil},
		{"no retries", with(func(p *supervisor.Policy) { p.MaxRetries = 0 }), nil},
		{"no jitter", with(func(p *supervisor.Policy) { p.Jitter = 0 }), nil},
		{"full jitter", with(func(p *supervisor.Policy) { p.Jitter = 1 }), nil},
		{"constant delay", with(func(p *supervisor.Policy) { p.Multiplier = 1; p.Max = p.Initial }), nil},
		{"negative retries", with(func(p *supervisor.Policy) { p.MaxRetries = -1 }), []string{"MaxRetries", "-1"}},
		{"zero initial", with(func(p *supervisor.Policy) { p.Initial = 0 }), []string{"Initial", "0s"}},
		{"negative initial", with(func(p *supervisor.Policy) { p.Initial = -time.Second }), []string{"Initial", "-1s"}},
		{"max below initial", with(func(p *supervisor.Policy) { p.Max = 50 * time.Millisecond }), []string{"Max", "50ms", "100ms"}},
		{"zero max", with(func(p *supervisor.Policy) { p.Max = 0 }), []string{"Max", "0s"}},
		{"multiplier below 1", with(func(p *supervisor.Policy) { p.Multiplier = 0.5 }), []string{"Multiplier", "0.5"}},
		{"zero multiplier", with(func(p *supervisor.Policy) { p.Multiplier = 0 }), []string{"Multiplier", "0"}},
		{"NaN multiplier", with(func(p *supervisor.Policy) { p.Multiplier = math.NaN() }), []string{"Multiplier", "NaN"}},
		{"infinite multiplier", with(func(p *supervisor.Policy) { p.Multiplier = math.Inf(1) }), []string{"Multiplier", "+Inf"}},
		{"negative jitter", with(func(p *supervisor.Policy) { p.Jitter = -0.1 }), []string{"Jitter", "-0.1"}},
		{"jitter above 1", with(func(p *supervisor.Policy) { p.Jitter = 1.5 }), []string{"Jitter", "1.5"}},
		{"NaN jitter", with(func(p *supervisor.Policy) { p.Jitter = math.NaN() }), []string{"Jitter", "NaN"}},
		{"infinite jitter", with(func(p *supervisor.Policy) { p.Jitter = math.Inf(-1) }), []string{"Jitter", "-Inf"}},
		{"zero value", supervisor.Policy{}, []string{"Initial"}},
	}
	for _, c := range cases {
		err := c.p.Validate()
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: Validate = %v, want nil", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Validate accepted %+v", c.name, c.p)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %q", c.name, err, w)
			}
		}
	}
}

func TestPipelineAfter(t *testing.T) {
	pol := supervisor.Policy{MaxRetries: 2, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	plain := errors.New("x")
	perm := supervisor.PermanentError(plain)
	cases := []struct {
		name       string
		deadLetter bool
		err        error
		attempt    int
		want       supervisor.Step
	}{
		{"first failure retried", true, plain, 1, supervisor.Step{Action: supervisor.RetryAfter, Delay: 100 * time.Millisecond, Directive: supervisor.Retry}},
		{"delay grows", true, plain, 2, supervisor.Step{Action: supervisor.RetryAfter, Delay: 200 * time.Millisecond, Directive: supervisor.Retry}},
		{"retry without a dead-letter topic", false, plain, 2, supervisor.Step{Action: supervisor.RetryAfter, Delay: 200 * time.Millisecond, Directive: supervisor.Retry}},
		{"exhausted, dead-lettered", true, plain, 3, supervisor.Step{Action: supervisor.DeadLetter, Directive: supervisor.Retry}},
		{"exhausted, skipped", false, plain, 3, supervisor.Step{Action: supervisor.Skip, Directive: supervisor.Retry}},
		{"panic retried", true, &supervisor.PanicError{Value: "boom"}, 1, supervisor.Step{Action: supervisor.RetryAfter, Delay: 100 * time.Millisecond, Directive: supervisor.Retry}},
		{"timeout retried", true, supervisor.ErrHandlerTimeout, 1, supervisor.Step{Action: supervisor.RetryAfter, Delay: 100 * time.Millisecond, Directive: supervisor.Retry}},
		{"permanent dead-lettered at once", true, perm, 1, supervisor.Step{Action: supervisor.DeadLetter, Directive: supervisor.Permanent}},
		{"permanent skipped at once", false, perm, 1, supervisor.Step{Action: supervisor.Skip, Directive: supervisor.Permanent}},
		{"nil is nothing to do", true, nil, 1, supervisor.Step{Action: supervisor.Skip, Directive: supervisor.Done}},
	}
	for _, c := range cases {
		p := supervisor.Pipeline{Policy: pol, DeadLetter: c.deadLetter}
		if got := p.After(c.err, c.attempt); got != c.want {
			t.Errorf("%s: After(%v, %d) = %+v, want %+v", c.name, c.err, c.attempt, got, c.want)
		}
	}
	// No retries: the first failure is the last.
	none := supervisor.Pipeline{Policy: supervisor.Policy{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}, DeadLetter: true}
	if got := none.After(plain, 1); got.Action != supervisor.DeadLetter {
		t.Errorf("MaxRetries 0: After = %+v, want DeadLetter", got)
	}
}

// The delay of consecutive retries grows by Multiplier up to Max.
func TestPipelineAfterDelayGrows(t *testing.T) {
	p := supervisor.Pipeline{Policy: supervisor.Policy{MaxRetries: 10, Initial: 10 * time.Millisecond, Max: 300 * time.Millisecond, Multiplier: 3}}
	want := []time.Duration{10, 30, 90, 270, 300, 300}
	for i, w := range want {
		s := p.After(errors.New("x"), i+1)
		if s.Action != supervisor.RetryAfter || s.Delay != w*time.Millisecond {
			t.Errorf("attempt %d: %+v, want a retry after %v", i+1, s, w*time.Millisecond)
		}
	}
}

func ExamplePipeline_After() {
	p := supervisor.Pipeline{Policy: supervisor.Policy{MaxRetries: 2, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}, DeadLetter: true}
	err := errors.New("connection refused")
	for attempt := 1; attempt <= 3; attempt++ {
		s := p.After(err, attempt)
		fmt.Println(attempt, s.Action, s.Delay)
	}
	fmt.Println(p.After(supervisor.PermanentError(err), 1).Action)
	// Output:
	// 1 retry 100ms
	// 2 retry 200ms
	// 3 dead-letter 0s
	// dead-letter
}
