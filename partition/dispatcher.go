package partition

import (
	"context"
	"sync"
)

// loopDispatcher runs one actor's mailbox on a goroutine of its own that
// waits for the next burst of messages instead of exiting after each.
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
// one. Should it be full anyway, or once the dispatcher is closed (the
// actor stopped, or ctx ended), Schedule starts a goroutine as the
// default dispatcher does.
type loopDispatcher struct {
	ctx     context.Context
	mu      sync.Mutex
	ch      chan func()
	started bool
	closed  bool
}

// mailboxThroughput is what protoactor's default dispatcher processes
// before it yields.
const mailboxThroughput = 300

func newLoopDispatcher(ctx context.Context) *loopDispatcher {
	return &loopDispatcher{ctx: ctx, ch: make(chan func(), 1)}
}

// Schedule implements actor.Dispatcher.
func (d *loopDispatcher) Schedule(fn func()) {
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
func (d *loopDispatcher) Throughput() int { return mailboxThroughput }

// close lets the goroutine end once it has run what it has: the actor
// stopped. It may be called from that goroutine.
func (d *loopDispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

func (d *loopDispatcher) loop() {
	done := d.ctx.Done()
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
		case <-done:
			d.exit()
			return
		}
	}
}

// exit closes d and hands what waits in ch to a goroutine of its own.
func (d *loopDispatcher) exit() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	select {
	case fn := <-d.ch:
		go fn()
	default:
	}
}
