package config

import (
	"slices"
	"strings"
	"testing"
)

// TestLoadExecForms loads handler.exec in both spellings: the command
// list (per-record mode) and the mapping with a mode.
func TestLoadExecForms(t *testing.T) {
	for _, tc := range []struct {
		name, exec string
		want       ExecHandler
		stream     bool
	}{
		{"list", `["./h.sh", "a b"]`, ExecHandler{Command: []string{"./h.sh", "a b"}}, false},
		{"mapping per record", `{command: [./h.sh]}`, ExecHandler{Command: []string{"./h.sh"}}, false},
		{"mapping per record named", `{command: [./h.sh], mode: per_record}`, ExecHandler{Command: []string{"./h.sh"}, Mode: ExecPerRecord}, false},
		{"mapping stream", `{command: [python3, -u, h.py], mode: stream}`, ExecHandler{Command: []string{"python3", "-u", "h.py"}, Mode: ExecStream}, true},
		{"mapping stream pipelined", `{command: [h.py], mode: stream, pipeline: 8}`, ExecHandler{Command: []string{"h.py"}, Mode: ExecStream, Pipeline: 8}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, "consumers:\n  - {topic: a, group: g, handler: {exec: "+tc.exec+"}}\n")
			cfg := mustLoad(t, Source{File: path, Env: noEnv})
			got := cfg.Consumers[0].Handler.Exec
			if got == nil || !slices.Equal(got.Command, tc.want.Command) || got.Mode != tc.want.Mode || got.Pipeline != tc.want.Pipeline {
				t.Fatalf("exec = %+v, want %+v", got, tc.want)
			}
			if got.Stream() != tc.stream {
				t.Errorf("Stream() = %v, want %v", got.Stream(), tc.stream)
			}
		})
	}
}

// TestLoadExecProblems: each bad handler.exec is one problem naming its
// key.
func TestLoadExecProblems(t *testing.T) {
	for _, tc := range []struct{ name, exec, want string }{
		{"bad mode", `{command: [./h.sh], mode: streaming}`, `consumers[0].handler.exec.mode: "streaming" is not one of per_record, stream`},
		{"no command", `{mode: stream}`, `consumers[0].handler.exec.command: must name a command`},
		{"empty command", `{command: [], mode: stream}`, `consumers[0].handler.exec.command: must name a command`},
		{"empty list", `[]`, `consumers[0].handler.exec: must name a command`},
		{"unknown key", `{command: [./h.sh], mod: stream}`, `consumers[0].handler.exec.mod: unknown key (did you mean mode?)`},
		{"command a string", `{command: ./h.sh, mode: stream}`, `consumers[0].handler.exec.command: expected a list, got "./h.sh"`},
		{"mode a list", `{command: [./h.sh], mode: [stream]}`, `consumers[0].handler.exec.mode: expected a string`},
		{"a number", `3`, `consumers[0].handler.exec: expected a list (the command) or a mapping (command, mode), got 3`},
		{"null", `null`, `consumers[0].handler.exec: must name a command`},
		{"pipeline per record", `{command: [./h.sh], pipeline: 4}`, `consumers[0].handler.exec.pipeline: needs mode: stream`},
		{"pipeline too deep", `{command: [./h.sh], mode: stream, pipeline: 65}`, `consumers[0].handler.exec.pipeline: must be at most 64, got 65`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, "consumers:\n  - {topic: a, group: g, handler: {exec: "+tc.exec+"}}\n")
			msg := strings.ReplaceAll(loadErr(t, Source{File: path}), path, "actord.yaml")
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error lacks %q; got:\n%s", tc.want, msg)
			}
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("%d problems, want 1:\n%s", n, msg)
			}
		})
	}
}

// schema: with a stream child would be ignored: an error naming the key.
func TestLoadExecStreamRefusesSchema(t *testing.T) {
	path := writeConfig(t, "consumers:\n  - {topic: a, group: g, schema: {file: r.avsc}, handler: {exec: {command: [./h.py], mode: stream}}}\n")
	msg := loadErr(t, Source{File: path})
	if want := "consumers[0].schema: set with handler.exec mode stream"; !strings.Contains(msg, want) {
		t.Errorf("error lacks %q; got:\n%s", want, msg)
	}
}
