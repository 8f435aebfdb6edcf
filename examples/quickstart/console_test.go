package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actortest"
	"github.com/actord/actord/internal/browsertest"
	"github.com/actord/actord/internal/kafkatest"
)

// consoleURL finds the console's address, with its token, in the demo's
// output.
var consoleURLPattern = regexp.MustCompile(`http://127\.0\.0\.1:\d+/#token=[0-9a-f]{32}`)

// TestQuickstartConsole is the quickstart's promise: the URL the demo
// prints opens the console with its actions unlocked, the shop's four
// groups are there with their lag, the poison record is in the
// dead-letter view with its error, and replaying it from the page sends it
// back to orders, where payments-service dead-letters it once more.
//
// With ACTORD_CONSOLE_SCREENSHOT=FILE it also saves the consumers view at
// 1280x800 to FILE (make screenshot writes docs/console.png).
func TestQuickstartConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &kafkatest.LockedBuffer{}
	done := make(chan error, 1)
	go func() {
		_, err := run(ctx, options{orders: 200, users: 20, listen: "127.0.0.1:0", metrics: "127.0.0.1:0", admin: true}, out)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("quickstart: %v", err)
			}
		case <-time.After(45 * time.Second):
			t.Error("quickstart did not stop within 45s")
		}
	})
	var url string
	actortest.Eventually(t, 60*time.Second, "the demo to print the console's URL and serve", func() bool {
		select {
		case err := <-done:
			t.Fatalf("quickstart ended early: %v\n%s", err, out)
		default:
		}
		url = consoleURLPattern.FindString(out.String())
		return url != "" && regexp.MustCompile(`serving until Ctrl-C`).MatchString(out.String())
	})

	br := browsertest.Start(t, 1280, 800)
	br.Do(chromedp.Navigate(url))
	br.WaitText("[data-testid=admin-state]", "the URL's token to unlock the actions", browsertest.Equals("unlocked"))
	for _, g := range []string{paymentsGroup, notificationsGroup, ordersGroup, usersGroup} {
		sel := `[data-testid=partition-row][data-group="` + g + `"] [data-testid=lag]`
		br.WaitText(sel, g+"'s partitions caught up", browsertest.Equals("0"))
	}
	if file := os.Getenv("ACTORD_CONSOLE_SCREENSHOT"); file != "" {
		// Users keep registering while the charts fill, so that they show
		// a flow rather than the demo's one burst.
		broker := regexp.MustCompile(`embedded Kafka-protocol broker on (\S+)`).FindStringSubmatch(out.String())
		users := actortest.Client(t, actortest.At(broker[1]))
		for i := range 40 {
			recs := make([]*kgo.Record, 5*(i%4+1))
			for j := range recs {
				recs[j] = &kgo.Record{Topic: "events", Value: []byte(fmt.Sprintf(`{"user_id":%d,"email":"u%d@example.com"}`, 1000+i*20+j, i)),
					Headers: []kgo.RecordHeader{{Key: "event", Value: []byte("user.registered")}}}
			}
			if err := users.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(250 * time.Millisecond) // pacing the screenshot's traffic, not waiting for an outcome
		}
		br.WaitText(`[data-testid=consumer][data-group="`+usersGroup+`"] [data-testid=handled]`, "the users handled", browsertest.Equals("520"))
		if err := os.WriteFile(file, br.Screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
	}

	br.Do(chromedp.Click(chromedp.CSS(`nav a[data-view=deadletters]`)))
	errText := br.WaitText("[data-testid=letter-row] [data-testid=letter-error]", "the poison record's error", func(s string) bool { return s != "" })
	if v := br.Text("[data-testid=letter-row] [data-testid=letter-value]"); !regexp.MustCompile(`^\{"order_id":0`).MatchString(v) {
		t.Errorf("the poison record's value shows %q (error %q)", v, errText)
	}
	br.Do(chromedp.Click(chromedp.CSS(`[data-testid=replay-all]`)))
	br.WaitText("[data-testid=message]", "the replay's result", browsertest.Equals("replayed 1 dead letter: 1 to orders"))
	br.WaitText(`[data-testid=dlq-topic][data-topic="orders.dlq"]`, "the poison dead-lettered again, the first one replayed",
		browsertest.Equals("orders.dlq: 2 records, 1 replayed"))
}
