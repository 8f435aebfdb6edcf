package actors_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/broker"
)

func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue finds one sample: name{labels...} value.
func metricValue(t *testing.T, body, name string, labels ...string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return -1
}

func TestMetricsCountAKnownWorkload(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 2)
	produce(t, b, "orders", 100, 10)
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"))
	err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		switch {
		case m.Value == 5 && m.Attempt <= 2:
			return errors.New("busy")
		case m.Value == 9:
			return actors.Permanent(errors.New("bad"))
		}
		return nil
	}, fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := actors.NewProducer[string](rt, "audit")
	actortest.Start(t, rt)
	for range 3 {
		if _, err := p.Publish(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
	}
	url := "http://" + rt.MetricsAddr()
	tg := []string{`topic="orders"`, `group="processor"`}
	actortest.Eventually(t, 20*time.Second, "99 handled and lag 0 on both partitions", func() bool {
		_, body := scrape(t, url+"/metrics")
		lag0 := metricValue(t, body, "actord_consumer_lag", `partition="0"`)
		lag1 := metricValue(t, body, "actord_consumer_lag", `partition="1"`)
		return metricValue(t, body, "actord_records_handled_total", tg...) == 99 && lag0 == 0 && lag1 == 0
	})
	_, body := scrape(t, url+"/metrics")
	want := map[string]float64{
		"actord_records_received_total":         100,
		"actord_records_handled_total":          99,
		"actord_records_failed_total":           3,
		"actord_records_retried_total":          2,
		"actord_records_dead_lettered_total":    1,
		"actord_handler_duration_seconds_count": 102,
	}
	for name, v := range want {
		if got := metricValue(t, body, name, tg...); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if got := metricValue(t, body, "actord_records_produced_total", `topic="audit"`); got != 3 {
		t.Errorf("produced to audit = %v, want 3", got)
	}
	if got := metricValue(t, body, "actord_records_produced_total", `topic="orders.dlq"`); got != 1 {
		t.Errorf("produced to orders.dlq = %v, want 1", got)
	}
	if got := metricValue(t, body, "actord_in_flight_records", `partition="0"`); got != 0 {
		t.Errorf("in flight = %v, want 0", got)
	}
	if got := metricValue(t, body, "actord_rebalances_total", `group="processor"`, `kind="assigned"`); got < 1 {
		t.Errorf("rebalances = %v", got)
	}
	if !regexp.MustCompile(`(?m)^actord_kafka_`).MatchString(body) {
		t.Error("franz-go client metrics (kprom) missing")
	}
	if code, _ := scrape(t, url+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
}

// Readiness goes false while the broker is down and true when it is back.
func TestReadinessFollowsTheBroker(t *testing.T) {
	dir := t.TempDir()
	b := actortest.Broker(t, actortest.DataDir(dir))
	addr := b.Addr()
	actortest.CreateTopic(t, b, "orders", 1)
	rt := actortest.Runtime(t, b,
		actors.ServeMetrics("127.0.0.1:0"),
		actors.RequestTimeout(time.Second),
		actors.DrainTimeout(time.Second),
	)
	actors.Consume(rt, "orders", "processor", func(context.Context, actors.Message[[]byte]) error { return nil })
	actortest.Start(t, rt)
	url := "http://" + rt.MetricsAddr() + "/readyz"
	actortest.Eventually(t, 20*time.Second, "ready", func() bool { code, _ := scrape(t, url); return code == 200 })
	b.Close()
	actortest.Eventually(t, 20*time.Second, "not ready with the broker down", func() bool { code, _ := scrape(t, url); return code == 503 })
	b2, err := broker.Start(broker.Config{Listen: addr, DataDir: dir, AutoCreateTopics: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b2.Close)
	actortest.Eventually(t, 30*time.Second, "ready again", func() bool { code, _ := scrape(t, url); return code == 200 })
}

// Lag is what was produced minus what was handled (and committed).
func TestLagIsProducedMinusHandled(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "orders", 1)
	produce(t, b, "orders", 100, 1)
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	err := actors.Consume(rt, "orders", "processor", func(ctx context.Context, m actors.Message[int]) error {
		if m.Value >= 60 {
			select { // the 61st record stalls: 60 handled, 40 not
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	url := "http://" + rt.MetricsAddr() + "/metrics"
	actortest.Eventually(t, 20*time.Second, "lag 40 with 60 handled", func() bool {
		_, body := scrape(t, url)
		return metricValue(t, body, "actord_consumer_lag", `partition="0"`) == 40 &&
			metricValue(t, body, "actord_records_handled_total", `topic="orders"`) == 60
	})
}

// Lag in time is the age of the oldest record in flight, from record
// timestamps: records written an hour ago and held by a stalled handler
// show about 3600 s; once everything is handled nothing is in flight and
// the gauge is gone.
func TestLagSecondsIsTheAgeOfTheOldestRecordInFlight(t *testing.T) {
	b := actortest.Broker(t)
	actortest.CreateTopic(t, b, "aged", 1)
	written := time.Now().Add(-time.Hour)
	recs := make([]*kgo.Record, 10)
	for i := range recs {
		recs[i] = &kgo.Record{Value: []byte(strconv.Itoa(i)), Timestamp: written.Add(time.Duration(i) * time.Second)}
	}
	actortest.Produce(t, b, "aged", recs...)
	rt := actortest.Runtime(t, b, actors.ServeMetrics("127.0.0.1:0"))
	release := make(chan struct{})
	err := actors.Consume(rt, "aged", "processor", func(ctx context.Context, m actors.Message[int]) error {
		if m.Value == 5 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	url := "http://" + rt.MetricsAddr() + "/metrics"
	var age float64
	actortest.Eventually(t, 20*time.Second, "lag in time while record 5 is held", func() bool {
		_, body := scrape(t, url)
		age = metricValue(t, body, "actord_consumer_lag_seconds", `partition="0"`)
		return age > 0
	})
	// The records came in one batch: its first record, an hour and 0 s
	// old, is the measure (record 5 itself is 5 s younger).
	if since := time.Since(written).Seconds(); age < since-10 || age > since+1 {
		t.Errorf("actord_consumer_lag_seconds %v, want about %v (the held batch's first record's age)", age, since)
	}
	close(release)
	actortest.WaitCommittedToEnd(t, b, "processor", "aged")
	actortest.Eventually(t, 20*time.Second, "no lag in time with nothing in flight", func() bool {
		_, body := scrape(t, url)
		return !strings.Contains(body, "actord_consumer_lag_seconds{")
	})
}
