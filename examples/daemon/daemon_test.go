// Package daemon_test runs examples/daemon as a user would: the stock
// actord binary with actord.yaml (--embedded), the exec script and the
// receiver binary, and checks that records reach both handlers.
package daemon_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/cli"
)

func TestDaemon(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh for handle.sh")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator),
		"github.com/actord/actord/cmd/actord", "github.com/actord/actord/examples/daemon/receiver")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	recv := start(t, filepath.Join(bin, "receiver"), nil, "-listen", "127.0.0.1:0")
	url := recv.await(t, recv.stdout, regexp.MustCompile(`receiving on (http://\S+)/`))

	// The consumers are read from the file only: run a copy with the
	// receiver's address and the script's absolute path.
	yaml, err := os.ReadFile("actord.yaml")
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("handle.sh")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(`"./handle.sh"`, `"`+script+`"`, "http://127.0.0.1:8080", url).Replace(string(yaml))
	if !strings.Contains(cfg, script) || !strings.Contains(cfg, url) {
		t.Fatal("actord.yaml no longer names ./handle.sh and http://127.0.0.1:8080")
	}
	cfgFile := filepath.Join(t.TempDir(), "actord.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	d := start(t, filepath.Join(bin, "actord"),
		[]string{"ACTORD_BROKER_LISTEN=127.0.0.1:0", "ACTORD_HTTP_LISTEN=127.0.0.1:0"},
		"start", "--config", cfgFile, "--embedded")
	addr := d.await(t, d.stderr, regexp.MustCompile(`msg="embedded broker started" addr=(\S+)`))
	// With no GOGC in its environment, actord start collects garbage at
	// cli.StartGCPercent, not Go's default of 100.
	if os.Getenv("GOGC") == "" {
		web := d.await(t, d.stderr, regexp.MustCompile(`msg="serving the console.*" addr=(\S+)`))
		if got := gcPercent(t, "http://"+web+"/metrics"); got != cli.StartGCPercent {
			t.Errorf("go_gc_gogc_percent %v, want %d", got, cli.StartGCPercent)
		}
	}
	for _, group := range []string{"fulfilment", "ledger"} {
		d.await(t, d.stderr, regexp.MustCompile(`msg="consumer group started" group=(`+group+`)`))
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	records := []*kgo.Record{
		{Topic: "orders", Key: []byte("user-1"), Value: []byte(`{"order_id":1,"sku":"book"}`)},
		{Topic: "orders", Key: []byte("user-2"), Value: []byte(`{"order_id":2,"sku":"lamp","status":"hold"}`)},
		{Topic: "orders", Key: []byte("user-3"), Value: []byte(`{"order_id":3,"sku":"pen"}`)},
		{Topic: "payments", Key: []byte("1"), Value: []byte(`{"order_id":1,"amount":9.99,"status":"success"}`)},
		{Topic: "payments", Key: []byte("2"), Value: []byte(`{"order_id":2,"amount":5,"status":"flaky"}`)},
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// The script: every order, the held one on its second attempt.
	d.await(t, d.stdout, regexp.MustCompile(`fulfilled orders/\d+@\d+ key=user-2 attempt=(2): .*"hold"`))
	d.await(t, d.stdout, regexp.MustCompile(`fulfilled orders/\d+@\d+ key=user-(1) attempt=1: .*"book"`))
	d.await(t, d.stdout, regexp.MustCompile(`fulfilled orders/\d+@\d+ key=user-(3) attempt=1: .*"pen"`))
	// The receiver: every payment, the flaky one after a 503.
	recv.await(t, recv.stdout, regexp.MustCompile(`received /payments payments/\d+@\d+ key=(1) attempt=1: .*"success"`))
	recv.await(t, recv.stdout, regexp.MustCompile(`unavailable /payments payments/\d+@\d+ key=(2) attempt=1`))
	recv.await(t, recv.stdout, regexp.MustCompile(`received /payments payments/\d+@\d+ key=2 attempt=(2): .*"flaky"`))

	// SIGINT: drain, commit, leave, exit 0.
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("actord exited %d after SIGINT\nstderr:\n%s", code, d.text(d.stderr))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("actord did not stop within 20s of SIGINT")
	}
	if n := strings.Count(d.text(d.stdout), "fulfilled "); n != 3 {
		t.Errorf("handle.sh fulfilled %d orders, want 3:\n%s", n, d.text(d.stdout))
	}
}

// gcPercent is go_gc_gogc_percent from the metrics at url.
func gcPercent(t *testing.T, url string) float64 {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go_gc_gogc_percent (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no go_gc_gogc_percent in %s", url)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// proc is a started command whose output is collected line by line.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}

	mu             sync.Mutex
	stdout, stderr *[]string
}

func start(t *testing.T, path string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(path, args...), exited: make(chan struct{}), stdout: new([]string), stderr: new([]string)}
	p.cmd.Env = append(os.Environ(), env...)
	outPipe, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	collect := func(sc *bufio.Scanner, lines *[]string) {
		defer wg.Done()
		for sc.Scan() {
			p.mu.Lock()
			*lines = append(*lines, sc.Text())
			p.mu.Unlock()
		}
	}
	wg.Add(2)
	go collect(bufio.NewScanner(outPipe), p.stdout)
	go collect(bufio.NewScanner(errPipe), p.stderr)
	go func() {
		wg.Wait() // the pipes are read to EOF before Wait closes them
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\nstderr:\n%s", filepath.Base(path), p.text(p.stdout), p.text(p.stderr))
		}
	})
	return p
}

// await waits up to 15s for a line of lines matching re and returns its
// first submatch.
func (p *proc) await(t *testing.T, lines *[]string, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range *lines {
			if m := re.FindStringSubmatch(l); m != nil {
				p.mu.Unlock()
				return m[1]
			}
		}
		p.mu.Unlock()
		select {
		case <-p.exited:
			t.Fatalf("%s exited before printing a line matching %s", filepath.Base(p.cmd.Path), re)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s printed no line matching %s within 15s", filepath.Base(p.cmd.Path), re)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) text(lines *[]string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(*lines, "\n")
}
