package handler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
)

func TestNewRejectsBadHandlers(t *testing.T) {
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "out.jsonl")
	for _, c := range []struct {
		name string
		h    config.Handler
		want string
	}{
		{"no kind", config.Handler{}, "no kind set"},
		{"two kinds", config.Handler{Exec: &config.ExecHandler{Command: []string{"true"}}, Log: &config.LogHandler{}}, "exec, log are all set"},
		{"all kinds", config.Handler{
			Exec: &config.ExecHandler{Command: []string{"true"}}, HTTP: &config.HTTPHandler{URL: "http://x"},
			Log: &config.LogHandler{}, Forward: &config.ForwardHandler{Topic: "t"},
		}, "exec, http, log, forward are all set"},
		{"empty exec", config.Handler{Exec: &config.ExecHandler{Command: []string{}}}, "exec needs a command"},
		{"blank command", config.Handler{Exec: &config.ExecHandler{Command: []string{""}}}, "exec needs a command"},
		{"http without url", config.Handler{HTTP: &config.HTTPHandler{}}, "http needs a url"},
		{"http not a url", config.Handler{HTTP: &config.HTTPHandler{URL: "localhost:8080/hook"}}, "want http://host"},
		{"forward without topic", config.Handler{Forward: &config.ForwardHandler{}}, "forward needs a topic"},
		{"forward bad topic", config.Handler{Forward: &config.ForwardHandler{Topic: "a b"}}, `topic "a b"`},
		{"forward without runtime", config.Handler{Forward: &config.ForwardHandler{Topic: "t"}}, "needs a runtime"},
		{"log file unopenable", config.Handler{Log: &config.LogHandler{File: missingDir}}, missingDir},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn, err := handler.New(c.h, nil, nil)
			if err == nil {
				t.Fatalf("New accepted %+v", c.h)
			}
			if fn != nil {
				t.Error("New returned a handler along with an error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

// TestCheckCommand is the check `actord start` makes of an exec handler's
// command before it consumes (issue 21, finding 5).
func TestCheckCommand(t *testing.T) {
	if err := handler.CheckCommand([]string{"sh", "-c", "true"}); err != nil {
		t.Errorf("sh: %v", err)
	}
	notExec := filepath.Join(t.TempDir(), "handle.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cmd, want string }{
		{"/nonexistent/handler", `"/nonexistent/handler": no such file or directory`},
		{"actord-test-no-such-command", `"actord-test-no-such-command": executable file not found in $PATH`},
		{notExec, `"` + notExec + `": not executable (permission denied)`},
	} {
		if err := handler.CheckCommand([]string{c.cmd}); err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.cmd, err, c.want)
		}
	}
}
