package console_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/console"
	"github.com/actord/actord/internal/browsertest"
)

func row(group string, partition int) string {
	return fmt.Sprintf(`[data-testid=partition-row][data-group=%q][data-partition="%d"]`, group, partition)
}

// TestBrowserShowsGroupsLagAndDeadLetters loads the page in Chromium
// against a runtime on the embedded broker and checks what a user sees:
// the partition rows with the lag and committed offsets the broker
// reports, the counters, the throughput chart growing after more records
// are produced, the dead letter's error and value in the dead-letter view,
// the read-only notice, and a layout that fits a narrow window.
func TestBrowserShowsGroupsLagAndDeadLetters(t *testing.T) {
	s := newShop(t)
	s.orders(t, 1, 9)
	actortest.Produce(t, s.b, "orders", actortest.Value("poison"))
	actortest.Produce(t, s.b, "audit", actortest.Value("a1"), actortest.Value("a2"), actortest.Value("a3"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 1)
	actortest.WaitCommittedToEnd(t, s.b, "billing", "orders")
	actortest.Eventually(t, 10*time.Second, "auditors to hold 3 records", func() bool {
		return brokerLag(t, s, "auditors", "audit")[0] == 3
	})

	br := browsertest.Start(t, 1280, 800)
	br.Do(chromedp.Navigate(s.url + "/"))
	br.WaitText("[data-testid=service]", "the service name", browsertest.Equals("shop"))
	lag := brokerLag(t, s, "auditors", "audit")
	br.WaitText(row("auditors", 0)+" [data-testid=lag]", "auditors' lag as the broker reports it", browsertest.Equals(fmt.Sprint(lag[0])))
	if got := br.Text(row("auditors", 0) + " [data-testid=committed]"); got != "none" {
		t.Errorf("auditors committed %q, want none (nothing finished)", got)
	}
	if got := br.Text(row("auditors", 0) + " [data-testid=state]"); !strings.Contains(got, "running") {
		t.Errorf("auditors state %q, want running in text", got)
	}
	if got := br.Text(row("auditors", 0) + " [data-testid=in-flight]"); got != "3" {
		t.Errorf("auditors in flight %q, want 3", got)
	}
	br.WaitText(row("auditors", 0)+" [data-testid=lag-time]", "auditors' lag in time", func(s string) bool {
		return s != "" && s != "unknown" && s != "0 ms"
	})
	committed := actortest.Committed(t, s.b, "billing", "orders")
	for p := range 2 {
		br.WaitText(row("billing", p)+" [data-testid=lag]", "billing caught up", browsertest.Equals("0"))
		if got, want := br.Text(row("billing", p)+" [data-testid=committed]"), fmt.Sprint(committed[int32(p)]); got != want {
			t.Errorf("billing partition %d committed %q, broker says %s", p, got, want)
		}
	}
	billing := `[data-testid=consumer][data-group=billing]`
	br.WaitText(billing+" [data-testid=handled]", "billing's handled count", browsertest.Equals("9"))
	if got := br.Text(billing + " [data-testid=dead-lettered]"); got != "1" {
		t.Errorf("billing dead-lettered %q, want 1", got)
	}
	if !strings.Contains(br.Text("[data-testid=readonly]"), "read-only") || br.Count("[data-testid=pause]") != 0 {
		t.Error("admin off: want the read-only notice and no pause button")
	}

	// The throughput chart adds up what was handled in its window; 20
	// more orders make it grow by about 20.
	chartSel := billing + " [data-testid=chart-throughput]"
	defer func() {
		if t.Failed() {
			var h []console.Series
			getJSON(t, s, "/api/history", &h)
			t.Logf("history: %+v", h)
		}
	}()
	actortest.Eventually(t, 20*time.Second, "the throughput chart to show the first 9 orders", func() bool {
		a, _ := strconv.ParseFloat(br.Attr(chartSel, "data-area"), 64)
		return a > 8
	})
	before, _ := strconv.ParseFloat(br.Attr(chartSel, "data-area"), 64)
	points := br.Attr(chartSel+" polyline", "points")
	s.orders(t, 100, 20)
	br.WaitText(billing+" [data-testid=handled]", "billing's handled count after 20 more", browsertest.Equals("29"))
	actortest.Eventually(t, 20*time.Second, "the throughput chart to add the 20 orders", func() bool {
		a, _ := strconv.ParseFloat(br.Attr(chartSel, "data-area"), 64)
		return a >= before+19
	})
	if br.Attr(chartSel+" polyline", "points") == points {
		t.Error("the chart's line did not change")
	}

	// The dead-letter view.
	br.Do(chromedp.Click(chromedp.CSS(`nav a[data-view=deadletters]`)))
	br.WaitText("[data-testid=letter-row] [data-testid=letter-error]", "the dead letter's error", browsertest.Equals(poisonError))
	if got := br.Text("[data-testid=letter-row] [data-testid=letter-value]"); !strings.HasPrefix(got, "poison") {
		t.Errorf("letter value %q, want the value poison", got)
	}
	if got := br.Text("[data-testid=letter-row] [data-testid=letter-replayed]"); got != "not replayed" {
		t.Errorf("letter replay state %q", got)
	}
	if got := br.Text("[data-testid=letter-row] [data-testid=letter-dlq-headers]"); !strings.Contains(got, "actord.dlq.error: "+poisonError) || !strings.Contains(got, "actord.dlq.group: billing") {
		t.Errorf("the letter's actord.dlq.* headers show %q", got)
	}
	if n := br.Count("[data-testid=replay-all]"); n != 0 {
		t.Error("admin off: a replay button is shown")
	}

	// The topics view.
	br.Do(chromedp.Click(chromedp.CSS(`nav a[data-view=topics]`)))
	br.WaitText(`[data-testid=topic-row][data-topic=orders] [data-testid=topic-records]`, "orders' record count", browsertest.Equals("30"))

	// A narrow window: nothing wider than the viewport.
	br.Do(chromedp.EmulateViewport(400, 800), chromedp.Click(chromedp.CSS(`nav a[data-view=consumers]`)))
	br.WaitText(row("auditors", 0)+" [data-testid=lag]", "the lag at 400 px", browsertest.Equals("3"))
	if browsertest.Eval[bool](br, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("at 400 px wide the page scrolls sideways")
	}
}

// TestBrowserReplaysWithAdminToken unlocks the actions with the admin
// token, replays the dead letter from the page (selected, to another
// topic, then the resumable replay to its source) and sees the records
// arrive, pauses and resumes a consumer, and checks that the same POSTs
// without the token, or from another origin, are refused.
func TestBrowserReplaysWithAdminToken(t *testing.T) {
	s := newShop(t, actors.ConsoleAdmin(testToken))
	actortest.Produce(t, s.b, "orders", actortest.KeyValue("user-0", "poison"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 1)

	// Refused: no token, a wrong token, another origin, not JSON.
	body := `{"offsets":[{"partition":0,"offset":0}],"to":"orders.replayed"}`
	path := "/api/deadletters/orders.dlq/replay"
	for _, c := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer not-the-token-0123456789"}, http.StatusUnauthorized},
		{"cross-site", map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"other origin", map[string]string{"Authorization": "Bearer " + testToken, "Origin": "http://evil.example"}, http.StatusForbidden},
		{"form post", map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
	} {
		if code, answer := postJSON(t, s, path, body, c.headers); code != c.status {
			t.Errorf("%s: POST %s: %d %s, want %d", c.name, path, code, answer, c.status)
		}
	}

	br := browsertest.Start(t, 1280, 800)
	br.Do(chromedp.Navigate(s.url + "/"))
	br.WaitText("[data-testid=admin-state]", "the locked admin form", browsertest.Contains("locked"))
	br.Do(
		chromedp.SendKeys(chromedp.CSS(`#token`), "wrong-token-0123456789"),
		chromedp.Click(chromedp.CSS(`[data-testid=unlock]`)))
	br.WaitText("[data-testid=admin-state]", "a wrong token refused", browsertest.Equals("locked: wrong token"))
	br.Do(
		chromedp.SendKeys(chromedp.CSS(`#token`), testToken),
		chromedp.Click(chromedp.CSS(`[data-testid=unlock]`)))
	br.WaitText("[data-testid=admin-state]", "the actions unlocked", browsertest.Equals("unlocked"))

	// Replay the selected letter to another topic.
	br.Do(chromedp.Click(chromedp.CSS(`nav a[data-view=deadletters]`)))
	br.WaitText("[data-testid=letter-row] [data-testid=letter-error]", "the dead letter", browsertest.Equals(poisonError))
	br.Do(
		chromedp.Click(chromedp.CSS(`[data-testid=letter-row] [data-testid=select]`)),
		chromedp.SendKeys(chromedp.CSS(`#replay-to`), "orders.replayed"),
		chromedp.Click(chromedp.CSS(`[data-testid=replay-selected]`)))
	br.WaitText("[data-testid=message]", "the replay's result", browsertest.Equals("replayed 1 dead letter: 1 to orders.replayed"))
	got := actortest.ReadTopic(t, s.b, "orders.replayed", 1)
	if string(got[0].Value) != "poison" || string(got[0].Key) != "user-0" {
		t.Errorf("replayed record %q=%q, want user-0=poison", got[0].Key, got[0].Value)
	}
	if end := actortest.EndOffsets(t, s.b, "orders.replayed"); end[0]+end[1] != 1 {
		t.Errorf("orders.replayed ends at %v, want 1 record in all: the refused POSTs produced nothing", end)
	}
	br.WaitText("[data-testid=letter-row] [data-testid=letter-replayed]", "the letter marked replayed", browsertest.Contains("selected"))
	// A second click on the same letter is refused, not published twice.
	br.Do(
		chromedp.Click(chromedp.CSS(`[data-testid=letter-row] [data-testid=select]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=replay-selected]`)))
	br.WaitText("[data-testid=message]", "the second replay refused", browsertest.Contains("was replayed at"))

	// Replay all, resumably, to the source topic: billing handles the
	// poison again and dead-letters it a second time.
	browsertest.Eval[string](br, `document.querySelector("#replay-to").value = ""`)
	br.Do(chromedp.Click(chromedp.CSS(`[data-testid=replay-all]`)))
	br.WaitText("[data-testid=message]", "the resumable replay's result", browsertest.Equals("replayed 1 dead letter: 1 to orders"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 2)
	br.WaitText(`[data-testid=dlq-topic][data-topic="orders.dlq"]`, "the topic's replay count", browsertest.Equals("orders.dlq: 2 records, 1 replayed"))

	// Pause billing, produce, see the lag wait; resume, see it handled.
	br.Do(chromedp.Click(chromedp.CSS(`nav a[data-view=consumers]`)))
	billing := `[data-testid=consumer][data-group=billing]`
	br.Do(chromedp.WaitVisible(chromedp.CSS(billing+` [data-testid=pause]`)),
		chromedp.Click(chromedp.CSS(billing+` [data-testid=pause]`)))
	br.WaitText(billing+" [data-testid=consumer-state]", "billing paused", browsertest.Contains("paused"))
	br.WaitText(row("billing", 0)+" [data-testid=state]", "its partitions paused", browsertest.Contains("paused"))
	var st console.Status
	getJSON(t, s, "/api/status", &st)
	if c := find(st, "billing", "orders"); c == nil || !c.Paused {
		t.Fatalf("status after pause: %+v", c)
	}
	handled := find(st, "billing", "orders").Counts.Handled
	s.orders(t, 1, 4)
	actortest.Eventually(t, 20*time.Second, "the 4 orders to wait as lag", func() bool {
		l := brokerLag(t, s, "billing", "orders")
		return l[0]+l[1] == 4
	})
	getJSON(t, s, "/api/status", &st)
	if got := find(st, "billing", "orders").Counts.Handled; got != handled {
		t.Errorf("paused billing handled %d more", got-handled)
	}
	br.Do(chromedp.Click(chromedp.CSS(billing + ` [data-testid=resume]`)))
	br.WaitText(billing+" [data-testid=consumer-state]", "billing resumed", browsertest.Contains("running"))
	br.WaitText(billing+" [data-testid=handled]", "the 4 orders handled after the resume", browsertest.Equals(fmt.Sprint(handled+4)))
	actortest.WaitCommittedToEnd(t, s.b, "billing", "orders")
}
