// Package mailbox runs protoactor mailboxes on goroutines that live on
// between messages.
package mailbox

import (
	"context"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Loop is an actor.Dispatcher that runs one actor's mailbox on a goroutine
// of its own that waits for the next burst of messages instead of exiting
// after each.
//
// protoactor's default dispatcher starts a goroutine every time an idle
// mailbox gets a message. The partition actor and its handler actors go
// idle between every run of records (in key mode tens of records), and a
// fresh goroutine's small stack is grown again, copy by copy, down the
// mailbox, the actor and the handler's calls: a profile of key mode
// showed stack copying (runtime.newstack, copystack) at 14% of the
// consumer's CPU, more than the mode's own bookkeeping. A goroutine kept
// for the actor keeps its stack; waking it costs a channel hand-off.
//
// The mailbox calls Schedule only when it turns from idle to running, and
// the function it schedules sets it idle again before returning, so at
// most one scheduled function waits while another finishes: ch holds
// one. Should it be full anyway, or once the Loop is closed (the actor
// stopped, or ctx ended), Schedule starts a goroutine as the default
// dispatcher does. A Loop idle for IdleExit lets its goroutine end, and
// starts another at the next message: a Loop nobody closes (Spawn's) does
// not keep a goroutine for an actor long gone.
type Loop struct {
	ctx     context.Context
	mu      sync.Mutex
	ch      chan func()
	started bool
	closed  bool
}

// Throughput is what protoactor's default dispatcher processes before it
// yields.
const Throughput = 300

// IdleExit is how long a Loop's goroutine waits for work before it ends.
const IdleExit = time.Second

// NewLoop is a Loop whose goroutine ends with ctx.
func NewLoop(ctx context.Context) *Loop {
	return &Loop{ctx: ctx, ch: make(chan func(), 1)}
}

// Schedule implements actor.Dispatcher.
func (d *Loop) Schedule(fn func()) {
	d.mu.Lock()
	if !d.closed {
		if !d.started {
			d.started = true
			go d.loop()
		}
		select {
		case d.ch <- fn:
			d.mu.Unlock()
			return
		default:
		}
	}
	d.mu.Unlock()
	go fn()
}

// Throughput implements actor.Dispatcher.
func (d *Loop) Throughput() int { return Throughput }

// Close lets the goroutine end once it has run what it has: the actor
// stopped. It may be called from that goroutine.
func (d *Loop) Close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

func (d *Loop) loop() {
	done := d.ctx.Done()
	idle := time.NewTimer(IdleExit)
	defer idle.Stop()
	for {
		select {
		case fn := <-d.ch:
			fn()
			d.mu.Lock()
			closed := d.closed
			d.mu.Unlock()
			if closed {
				d.exit()
				return
			}
			idle.Reset(IdleExit)
		case <-done:
			d.exit()
			return
		case <-idle.C:
			// Schedule sends under mu: with ch empty and started false
			// under it, the next Schedule starts a new goroutine.
			d.mu.Lock()
			if len(d.ch) == 0 {
				d.started = false
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
			idle.Reset(IdleExit)
		}
	}
}

// exit closes d and hands what waits in ch to a goroutine of its own.
func (d *Loop) exit() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	select {
	case fn := <-d.ch:
		go fn()
	default:
	}
}

// Spawn is an actor.SpawnFunc (actor.WithSpawnFunc) that gives every actor
// spawned from the props a Loop of its own, for props spawned many times
// whose actors take one message at a time (a handler actor between its
// records). The props' own dispatcher, if any, is replaced: give this
// only to props built here.
func Spawn(sys *actor.ActorSystem, id string, props *actor.Props, parent actor.SpawnerContext) (*actor.PID, error) {
	p := *props
	actor.WithDispatcher(NewLoop(context.Background()))(&p)
	return actor.DefaultSpawner(sys, id, &p, parent)
}
