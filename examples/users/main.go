// Command users is the seed's @event("user.registered"): one named event
// fanned out to two event actors, a welcome mailer and a default-settings
// writer, each with its own retry policy. The settings store is busy on
// its first try for one user: that handler retries, and the welcome mail,
// which already succeeded, is not sent twice.
//
//	go run ./examples/users
//	go run ./examples/users -brokers 127.0.0.1:9092 -n 20
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/examples/cluster"
	"github.com/actord/actord/examples/shop"
)

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (empty: run the embedded broker in-process)")
	n := flag.Int("n", 5, "users to register")
	flag.Parse()
	if err := start(*brokers, *n); err != nil {
		fmt.Fprintln(os.Stderr, "users:", err)
		os.Exit(1)
	}
}

// start runs the service against brokers or, when none are given, on an
// embedded broker it starts in-process on a free port and closes once the
// runtime has stopped.
func start(brokers string, n int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	brokers, _, closeBroker, err := cluster.Start(brokers)
	if err != nil {
		return err
	}
	defer closeBroker()
	_, err = run(ctx, brokers, n, os.Stdout)
	return err
}

// ledger records what the event actors did, for the account and the test.
type ledger struct {
	mu       sync.Mutex
	out      io.Writer
	mails    map[int64]int // user ID -> welcome mails sent
	settings map[int64]int // user ID -> settings created
	busy     map[int64]bool
	want     int
	complete chan struct{}
}

func (l *ledger) sendWelcomeEmail(_ context.Context, u shop.UserRegistered) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mails[u.UserID]++
	fmt.Fprintf(l.out, "  [mailer]   welcome mail to %s\n", u.Email)
	l.check()
	return nil
}

// createDefaultSettings fails once for user 2: the settings store is busy.
func (l *ledger) createDefaultSettings(_ context.Context, u shop.UserRegistered, attempt int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u.UserID == 2 && !l.busy[u.UserID] {
		l.busy[u.UserID] = true
		fmt.Fprintf(l.out, "  [settings] store busy for user %d (attempt %d): retrying\n", u.UserID, attempt)
		return actors.Retry(errors.New("settings store busy"))
	}
	l.settings[u.UserID]++
	fmt.Fprintf(l.out, "  [settings] default settings for user %d (attempt %d)\n", u.UserID, attempt)
	l.check()
	return nil
}

func (l *ledger) check() {
	if len(l.mails) == l.want && len(l.settings) == l.want && l.complete != nil {
		close(l.complete)
		l.complete = nil
	}
}

// run registers n users on the cluster at brokers and waits until both
// event actors are done with each.
func run(ctx context.Context, brokers string, n int, out io.Writer) (*ledger, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	rt, err := actors.New(shop.RuntimeOptions("users", brokers, log)...)
	if err != nil {
		return nil, err
	}
	defer rt.Stop(context.Background())

	complete := make(chan struct{})
	l := &ledger{out: out, mails: map[int64]int{}, settings: map[int64]int{}, busy: map[int64]bool{}, want: n, complete: complete}

	// Two event actors for one event name: each gets every user.registered.
	err = actors.On(rt, shop.UserRegisteredEvent, func(ctx context.Context, m actors.Message[shop.UserRegistered]) error {
		return l.sendWelcomeEmail(ctx, m.Value)
	})
	if err != nil {
		return nil, err
	}
	err = actors.On(rt, shop.UserRegisteredEvent, func(ctx context.Context, m actors.Message[shop.UserRegistered]) error {
		return l.createDefaultSettings(ctx, m.Value, m.Attempt)
	}, actors.MaxRetries(5), actors.Backoff(20*time.Millisecond, time.Second))
	if err != nil {
		return nil, err
	}
	if err := rt.Start(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "registering %d users (event %q on topic %q)\n", n, shop.UserRegisteredEvent, rt.EventsTopic())
	for i := 1; i <= n; i++ {
		u := shop.UserRegistered{UserID: int64(i), Email: fmt.Sprintf("user%d@example.com", i)}
		if _, err := actors.Emit(ctx, rt, shop.UserRegisteredEvent, u); err != nil {
			return nil, err
		}
	}
	select {
	case <-complete:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, errors.New("timed out waiting for the event actors")
	}
	if err := rt.Stop(context.Background()); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "%d users: %d welcome mails, %d default settings\n", n, len(l.mails), len(l.settings))
	return l, nil
}
