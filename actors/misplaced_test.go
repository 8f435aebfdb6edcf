package actors_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// raceEnabled is set by race_test.go under -race.
var raceEnabled bool

// misplaced are the files of testdata/misplaced, each an option given
// where it does not apply (or, control.go, every option where it does).
var misplaced = []string{
	"on_handlertimeout.go", "on_ordering.go", "on_concurrency.go", "on_fromlatest.go",
	"consume_key.go", "consume_header.go",
	"producer_maxretries.go", "producer_deadlettertopic.go",
	"keyed_producer_type.go",
	"control.go",
}

// A misplaced option does not compile: each file of testdata/misplaced is
// built on its own with the module's go.mod, and fails with the compiler
// message its first line wants, at that file; control.go, which gives
// every one of those options where it applies, builds. The go tool never
// builds testdata on its own (./... skips it), so the files stay out of
// the module's build and vet.
func TestMisplacedOptionsDoNotCompile(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to prove misplaced options do not compile: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "misplaced", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(misplaced))
	if !slices.Equal(got, want) {
		t.Fatalf("testdata/misplaced holds %v, want %v", got, want)
	}
	// The builds share the test binary's build mode, so that they find
	// the module's packages in the build cache.
	args := []string{"build"}
	if raceEnabled {
		args = append(args, "-race")
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOFLAGS=") && !strings.HasPrefix(e, "GOWORK=") {
			env = append(env, e)
		}
	}
	// Never touch go.mod or go.sum; build against this module alone.
	env = append(env, "GOFLAGS=-mod=readonly", "GOWORK=off")
	// The subtests run after this function returns: cancel at cleanup.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	for _, name := range misplaced {
		t.Run(strings.TrimSuffix(name, ".go"), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "misplaced", name)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			wantMsg, ok := strings.CutPrefix(first, "// want: ")
			if !ok {
				t.Fatalf("%s: first line %q is not // want: MESSAGE", path, first)
			}
			cmd := exec.CommandContext(ctx, goTool, append(args, path)...)
			cmd.Env = env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err = cmd.Run()
			if wantMsg == "builds" {
				if err != nil {
					t.Fatalf("go build %s: %v\n%s", path, err, out.String())
				}
				return
			}
			if err == nil {
				t.Fatalf("go build %s succeeded: the misplaced option compiles", path)
			}
			var errs []string
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					errs = append(errs, l)
				}
			}
			if len(errs) != 1 || !strings.HasPrefix(errs[0], path+":") || !strings.HasSuffix(errs[0], ": "+wantMsg) {
				t.Fatalf("go build %s:\n%s\nwant one error at that file: %s", path, out.String(), wantMsg)
			}
		})
	}
}
