package console_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/console"
)

// browserTimeout bounds everything one test does in the browser.
const browserTimeout = 90 * time.Second

// browser starts a headless Chromium (Debian's chromium, which make test
// installs) with a w x h window and returns its context, closed when t
// ends. Without Chromium the test is skipped, saying how to install it.
func browser(t *testing.T, w, h int) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium on this machine (make test installs Debian's chromium: apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(w, h),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelRun := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(func() { cancelRun(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// run runs browser actions, failing t on error.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates the JavaScript expression js in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("browser: %s: %v", js, err)
	}
	return v
}

// text is the text of the first element matching the CSS selector sel,
// or "" when there is none.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent.trim() : ""; })()`, sel))
}

// count is how many elements match sel.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// attr is attribute name of the first element matching sel.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? (e.getAttribute(%q) || "") : ""; })()`, sel, name))
}

// waitText waits until the element sel's text satisfies ok.
func waitText(t *testing.T, ctx context.Context, sel, what string, ok func(string) bool) string {
	t.Helper()
	var last string
	actortest.Eventually(t, 30*time.Second, what+" (last seen: "+strconv.Quote(last)+")", func() bool {
		last = text(t, ctx, sel)
		return ok(last)
	})
	return last
}

func equals(want string) func(string) bool { return func(s string) bool { return s == want } }

func contains(want string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, want) }
}

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

	ctx := browser(t, 1280, 800)
	run(t, ctx, chromedp.Navigate(s.url+"/"))
	waitText(t, ctx, "[data-testid=service]", "the service name", equals("shop"))
	lag := brokerLag(t, s, "auditors", "audit")
	waitText(t, ctx, row("auditors", 0)+" [data-testid=lag]", "auditors' lag as the broker reports it", equals(fmt.Sprint(lag[0])))
	if got := text(t, ctx, row("auditors", 0)+" [data-testid=committed]"); got != "none" {
		t.Errorf("auditors committed %q, want none (nothing finished)", got)
	}
	if got := text(t, ctx, row("auditors", 0)+" [data-testid=state]"); !strings.Contains(got, "running") {
		t.Errorf("auditors state %q, want running in text", got)
	}
	if got := text(t, ctx, row("auditors", 0)+" [data-testid=in-flight]"); got != "3" {
		t.Errorf("auditors in flight %q, want 3", got)
	}
	waitText(t, ctx, row("auditors", 0)+" [data-testid=lag-time]", "auditors' lag in time", func(s string) bool {
		return s != "" && s != "unknown" && s != "0 ms"
	})
	committed := actortest.Committed(t, s.b, "billing", "orders")
	for p := range 2 {
		waitText(t, ctx, row("billing", p)+" [data-testid=lag]", "billing caught up", equals("0"))
		if got, want := text(t, ctx, row("billing", p)+" [data-testid=committed]"), fmt.Sprint(committed[int32(p)]); got != want {
			t.Errorf("billing partition %d committed %q, broker says %s", p, got, want)
		}
	}
	billing := `[data-testid=consumer][data-group=billing]`
	waitText(t, ctx, billing+" [data-testid=handled]", "billing's handled count", equals("9"))
	if got := text(t, ctx, billing+" [data-testid=dead-lettered]"); got != "1" {
		t.Errorf("billing dead-lettered %q, want 1", got)
	}
	if !strings.Contains(text(t, ctx, "[data-testid=readonly]"), "read-only") || count(t, ctx, "[data-testid=pause]") != 0 {
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
		a, _ := strconv.ParseFloat(attr(t, ctx, chartSel, "data-area"), 64)
		return a > 8
	})
	before, _ := strconv.ParseFloat(attr(t, ctx, chartSel, "data-area"), 64)
	points := attr(t, ctx, chartSel+" polyline", "points")
	s.orders(t, 100, 20)
	waitText(t, ctx, billing+" [data-testid=handled]", "billing's handled count after 20 more", equals("29"))
	actortest.Eventually(t, 20*time.Second, "the throughput chart to add the 20 orders", func() bool {
		a, _ := strconv.ParseFloat(attr(t, ctx, chartSel, "data-area"), 64)
		return a >= before+19
	})
	if attr(t, ctx, chartSel+" polyline", "points") == points {
		t.Error("the chart's line did not change")
	}

	// The dead-letter view.
	run(t, ctx, chromedp.Click(chromedp.CSS(`nav a[data-view=deadletters]`)))
	waitText(t, ctx, "[data-testid=letter-row] [data-testid=letter-error]", "the dead letter's error", equals(poisonError))
	if got := text(t, ctx, "[data-testid=letter-row] [data-testid=letter-value]"); !strings.HasPrefix(got, "poison") {
		t.Errorf("letter value %q, want the value poison", got)
	}
	if got := text(t, ctx, "[data-testid=letter-row] [data-testid=letter-replayed]"); got != "not replayed" {
		t.Errorf("letter replay state %q", got)
	}
	if n := count(t, ctx, "[data-testid=replay-all]"); n != 0 {
		t.Error("admin off: a replay button is shown")
	}

	// The topics view.
	run(t, ctx, chromedp.Click(chromedp.CSS(`nav a[data-view=topics]`)))
	waitText(t, ctx, `[data-testid=topic-row][data-topic=orders] [data-testid=topic-records]`, "orders' record count", equals("30"))

	// A narrow window: nothing wider than the viewport.
	run(t, ctx, chromedp.EmulateViewport(400, 800), chromedp.Click(chromedp.CSS(`nav a[data-view=consumers]`)))
	waitText(t, ctx, row("auditors", 0)+" [data-testid=lag]", "the lag at 400 px", equals("3"))
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`) {
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

	ctx := browser(t, 1280, 800)
	run(t, ctx, chromedp.Navigate(s.url+"/"))
	waitText(t, ctx, "[data-testid=admin-state]", "the locked admin form", contains("locked"))
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#token`), "wrong-token-0123456789"),
		chromedp.Click(chromedp.CSS(`[data-testid=unlock]`)))
	waitText(t, ctx, "[data-testid=admin-state]", "a wrong token refused", equals("locked: wrong token"))
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#token`), testToken),
		chromedp.Click(chromedp.CSS(`[data-testid=unlock]`)))
	waitText(t, ctx, "[data-testid=admin-state]", "the actions unlocked", equals("unlocked"))

	// Replay the selected letter to another topic.
	run(t, ctx, chromedp.Click(chromedp.CSS(`nav a[data-view=deadletters]`)))
	waitText(t, ctx, "[data-testid=letter-row] [data-testid=letter-error]", "the dead letter", equals(poisonError))
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=letter-row] [data-testid=select]`)),
		chromedp.SendKeys(chromedp.CSS(`#replay-to`), "orders.replayed"),
		chromedp.Click(chromedp.CSS(`[data-testid=replay-selected]`)))
	waitText(t, ctx, "[data-testid=message]", "the replay's result", equals("replayed 1 dead letter: 1 to orders.replayed"))
	got := actortest.ReadTopic(t, s.b, "orders.replayed", 1)
	if string(got[0].Value) != "poison" || string(got[0].Key) != "user-0" {
		t.Errorf("replayed record %q=%q, want user-0=poison", got[0].Key, got[0].Value)
	}
	if end := actortest.EndOffsets(t, s.b, "orders.replayed"); end[0]+end[1] != 1 {
		t.Errorf("orders.replayed ends at %v, want 1 record in all: the refused POSTs produced nothing", end)
	}
	waitText(t, ctx, "[data-testid=letter-row] [data-testid=letter-replayed]", "the letter marked replayed", contains("selected"))
	// A second click on the same letter is refused, not published twice.
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=letter-row] [data-testid=select]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=replay-selected]`)))
	waitText(t, ctx, "[data-testid=message]", "the second replay refused", contains("was replayed at"))

	// Replay all, resumably, to the source topic: billing handles the
	// poison again and dead-letters it a second time.
	eval[string](t, ctx, `document.querySelector("#replay-to").value = ""`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`[data-testid=replay-all]`)))
	waitText(t, ctx, "[data-testid=message]", "the resumable replay's result", equals("replayed 1 dead letter: 1 to orders"))
	actortest.WaitDeadLetters(t, s.b, "orders.dlq", 2)
	waitText(t, ctx, `[data-testid=dlq-topic][data-topic="orders.dlq"]`, "the topic's replay count", equals("orders.dlq: 2 records, 1 replayed"))

	// Pause billing, produce, see the lag wait; resume, see it handled.
	run(t, ctx, chromedp.Click(chromedp.CSS(`nav a[data-view=consumers]`)))
	billing := `[data-testid=consumer][data-group=billing]`
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS(billing+` [data-testid=pause]`)),
		chromedp.Click(chromedp.CSS(billing+` [data-testid=pause]`)))
	waitText(t, ctx, billing+" [data-testid=consumer-state]", "billing paused", contains("paused"))
	waitText(t, ctx, row("billing", 0)+" [data-testid=state]", "its partitions paused", contains("paused"))
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
	run(t, ctx, chromedp.Click(chromedp.CSS(billing+` [data-testid=resume]`)))
	waitText(t, ctx, billing+" [data-testid=consumer-state]", "billing resumed", contains("running"))
	waitText(t, ctx, billing+" [data-testid=handled]", "the 4 orders handled after the resume", equals(fmt.Sprint(handled+4)))
	actortest.WaitCommittedToEnd(t, s.b, "billing", "orders")
}
