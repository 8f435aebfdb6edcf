package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests for issue 21, finding 5: config values and files that were
// accepted silently, or read without bound.

// loadErr loads src and returns its error text, failing the test when
// Load accepts it.
func loadErr(t *testing.T, src Source) string {
	t.Helper()
	if src.Env == nil {
		src.Env = noEnv
	}
	_, err := Load(src)
	if err == nil {
		t.Fatalf("Load accepted %+v", src)
	}
	return err.Error()
}

const httpConsumer = `consumers:
  - topic: orders
    group: g
    handler:
      http:
        url: http://localhost:8080/hook
`

func TestLoadHTTPTimeoutMustBePositive(t *testing.T) {
	for _, v := range []string{"0s", "0", "-1s"} {
		t.Run(v, func(t *testing.T) {
			path := writeConfig(t, httpConsumer+"        timeout: "+v+"\n")
			msg := loadErr(t, Source{File: path})
			want := path + ": consumers[0].handler.http.timeout: must be greater than 0, got "
			if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, want)
			}
		})
	}
	// Absent (or null) still means the default.
	for _, extra := range []string{"", "        timeout:\n"} {
		cfg := mustLoad(t, Source{File: writeConfig(t, httpConsumer+extra), Env: noEnv})
		if got := cfg.Consumers[0].Handler.HTTP.Timeout; got != DefaultHTTPTimeout {
			t.Errorf("timeout %q: got %s, want the default %s", extra, got, DefaultHTTPTimeout)
		}
	}
}

func TestLoadSizesHaveUpperBounds(t *testing.T) {
	consumer := func(line string) string {
		return "consumers:\n  - topic: orders\n    group: g\n    handler: {log: {}}\n    " + line + "\n"
	}
	for _, c := range []struct {
		name string
		src  Source
		want string
	}{
		{"concurrency", Source{File: writeConfig(t, consumer("concurrency: 100000000"))},
			"consumers[0].concurrency: must be at most 10000, got 100000000"},
		{"consumer max_in_flight", Source{File: writeConfig(t, consumer("max_in_flight: 100000001"))},
			"consumers[0].max_in_flight: must be at most 100000, got 100000001"},
		{"runtime max_in_flight", Source{Env: []string{"ACTORD_RUNTIME_MAX_IN_FLIGHT=1000000000"}},
			"env ACTORD_RUNTIME_MAX_IN_FLIGHT: runtime.max_in_flight: must be at most 100000, got 1000000000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if msg := loadErr(t, c.src); !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not say %q", msg, c.want)
			}
		})
	}
	// The bounds themselves are accepted.
	cfg := mustLoad(t, Source{File: writeConfig(t, "runtime: {max_in_flight: 100000}\n"+
		consumer("concurrency: 10000")), Env: noEnv})
	if cfg.Consumers[0].Concurrency != MaxConcurrency || cfg.Consumers[0].MaxInFlight != MaxInFlightLimit {
		t.Errorf("got concurrency %d, max_in_flight %d", cfg.Consumers[0].Concurrency, cfg.Consumers[0].MaxInFlight)
	}
}

// loadWithin runs Load(src) and fails the test if it does not return
// within d (a FIFO without a writer blocked open(2) forever).
func loadWithin(t *testing.T, d time.Duration, src Source) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Load(src)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Load(%q) did not return within %s", src.File, d)
		return nil
	}
}

func TestLoadReadsOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("service: x\n"+strings.Repeat("#", MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "config file " + fifo + ": not a regular file (a named pipe)"},
		{"/dev/zero", "config file /dev/zero: not a regular file (a character device)"},
		{dir, "config file " + dir + ": is a directory"},
		{big, "config file " + big + ": 1048587 bytes, more than the 1048576 (1 MiB) a config file may hold"},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			err := loadWithin(t, 5*time.Second, Source{File: c.path, Env: noEnv})
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	// ./actord.yaml is held to the same rule.
	t.Run("default file", func(t *testing.T) {
		wd := t.TempDir()
		t.Chdir(wd)
		if err := syscall.Mkfifo(DefaultFile, 0o600); err != nil {
			t.Fatal(err)
		}
		err := loadWithin(t, 5*time.Second, Source{Env: noEnv})
		want := "config file actord.yaml: not a regular file (a named pipe)"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
	// A link to a regular file is read.
	t.Run("symlink", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "link.yaml")
		if err := os.Symlink(writeConfig(t, "service: linked\n"), link); err != nil {
			t.Fatal(err)
		}
		if cfg := mustLoad(t, Source{File: link, Env: noEnv}); cfg.Service != "linked" {
			t.Errorf("service %q, want linked", cfg.Service)
		}
	})
}

func TestLoadKeysAreLowerCase(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"Kafka:\n  bootstrap_servers: other:9092\n", "Kafka: unknown key (did you mean kafka? keys are lower case)"},
		{"kafka:\n  Bootstrap_Servers: other:9092\n", "kafka.Bootstrap_Servers: unknown key (did you mean bootstrap_servers? keys are lower case)"},
		{"SERVICE: x\n", "SERVICE: unknown key (did you mean service? keys are lower case)"},
		{"consumers:\n  - topic: t\n    group: g\n    handler: {Log: {}}\n",
			"consumers[0].handler.Log: unknown key (did you mean log? keys are lower case)"},
	} {
		path := writeConfig(t, c.yaml)
		msg := loadErr(t, Source{File: path})
		if want := path + ": " + c.want; !strings.Contains(msg, want) {
			t.Errorf("%q: error %q does not say %q", c.yaml, msg, want)
		}
	}
	// A topic's config names are names, not keys: they are left alone.
	mustLoad(t, Source{File: writeConfig(t, "topics:\n  - name: t\n    config: {Retention.MS: \"1000\"}\n"), Env: noEnv})
}

func TestLoadLongValueIsCut(t *testing.T) {
	t.Chdir(t.TempDir())
	long := strings.Repeat("a", 10000)
	msg := loadErr(t, Source{Flags: map[string]any{"kafka.bootstrap_servers": long}})
	want := `command line: kafka.bootstrap_servers: "` + long[:200] + `"... (10000 characters) is not host:port`
	if msg != want {
		t.Errorf("error is %d bytes: %.300q..., want %q", len(msg), msg, want)
	}
	// A runaway list is reported by its first 3 bad entries and a count.
	msg = loadErr(t, Source{Flags: map[string]any{"kafka.bootstrap_servers": strings.Repeat("a,", 5000)}})
	if n := strings.Count(msg, "\n"); n != 3 || !strings.Contains(msg, "4997 more of its 5000 entries are not host:port") {
		t.Errorf("error has %d lines: %.500q", n+1, msg)
	}
}
