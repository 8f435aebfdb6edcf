// Package kafkatest is what only actord's own tests share: the actord
// binary built once for the tests that run it as a process, a test PKI
// (NewPKI) and a buffer a test may read while it is written
// (LockedBuffer). Brokers, clients, topics, offsets and waits with
// deadlines come from the public test kit, package actortest.
package kafkatest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

// ActordBinary builds cmd/actord once per test binary (without the race
// detector: the processes under test run as users run them) and returns
// its path. Call RemoveBinaries from TestMain.
func ActordBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "actord-test-bin-")
		if buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("building actord: %w", err)
			return
		}
		out, err := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "actord"),
			"github.com/actord/actord/cmd/actord").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/actord: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "actord")
}

// RemoveBinaries deletes what ActordBinary built.
func RemoveBinaries() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}
