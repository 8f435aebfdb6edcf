package actors_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
)

// What only these tests need beside actortest: bulk keyed records, a
// header lookup, fast retries, and tallies of what handlers saw.

// produce writes n records keyed "k<i % keys>" with value "i", spread by key.
func produce(t *testing.T, c actortest.Cluster, topic string, n, keys int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addr()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var perr error
	var mu sync.Mutex
	for i := range n {
		wg.Add(1)
		r := &kgo.Record{Key: []byte("k" + strconv.Itoa(i%keys)), Value: []byte(strconv.Itoa(i))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if perr != nil {
		t.Fatal(perr)
	}
}

// header is the value of r's first header named k, "" when it has none.
func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// fastRetries keeps retrying tests quick.
func fastRetries() actors.HandlerOption { return actors.Backoff(time.Millisecond, 5*time.Millisecond) }

// counter counts handled values.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func newCounter() *counter { return &counter{seen: map[string]int{}} }

func (c *counter) add(v string) {
	c.mu.Lock()
	c.seen[v]++
	c.mu.Unlock()
}

func (c *counter) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *counter) dups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := 0
	for _, n := range c.seen {
		d += n - 1
	}
	return d
}

// attemptLog records the attempts each value ran, in order, as "[1 2 3]".
type attemptLog struct {
	mu sync.Mutex
	m  map[int][]int
}

func (l *attemptLog) add(m actors.Message[int]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[int][]int{}
	}
	l.m[m.Value] = append(l.m[m.Value], m.Attempt)
}

func (l *attemptLog) of(v int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.m[v])
}
