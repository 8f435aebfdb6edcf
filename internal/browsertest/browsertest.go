// Package browsertest drives a headless Chromium from Go tests with
// chromedp: the status console's tests load the page as a user does and
// read what it shows. Only tests import it, so neither chromedp nor the
// browser is linked into what a library user builds.
package browsertest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds everything one test does in its browser.
const Timeout = 90 * time.Second

// WaitTimeout bounds one WaitText.
const WaitTimeout = 30 * time.Second

// Browser is one headless Chromium tab.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// Start starts a headless Chromium (Debian's chromium, which make test
// installs) with a w x h window and one tab, closed when t ends. Without
// Chromium on the PATH the test is skipped, saying how to install it.
func Start(t testing.TB, w, h int) *Browser {
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
	ctx, cancelRun := context.WithTimeout(ctx, Timeout)
	t.Cleanup(func() { cancelRun(); cancelTab(); cancelAlloc() })
	b := &Browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return b
}

// Do runs browser actions, failing the test on error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Screenshot is a PNG of what the tab shows (its viewport).
func (b *Browser) Screenshot() []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("browsertest: screenshot: %v", err)
	}
	return png
}

// Eval evaluates the JavaScript expression js in the page.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("browsertest: %s: %v", js, err)
	}
	return v
}

// Text is the trimmed text of the first element matching the CSS
// selector sel, "" when there is none.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return Eval[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent.trim() : ""; })()`, sel))
}

// Count is how many elements match sel.
func (b *Browser) Count(sel string) int {
	b.t.Helper()
	return Eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// Attr is the attribute name of the first element matching sel, "" when
// there is none.
func (b *Browser) Attr(sel, name string) string {
	b.t.Helper()
	return Eval[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? (e.getAttribute(%q) || "") : ""; })()`, sel, name))
}

// WaitText waits up to WaitTimeout until the text of the element sel
// satisfies ok, and returns it; what names the condition in the failure,
// with the text last seen.
func (b *Browser) WaitText(sel, what string, ok func(string) bool) string {
	b.t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		last := b.Text(sel)
		if ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browsertest: timed out after %v waiting for %s (%s shows %q)", WaitTimeout, what, sel, last)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval, not a wait for an outcome
	}
}

// Equals is a WaitText condition: the text is want.
func Equals(want string) func(string) bool { return func(s string) bool { return s == want } }

// Contains is a WaitText condition: the text contains want.
func Contains(want string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, want) }
}
