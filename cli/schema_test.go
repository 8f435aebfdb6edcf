package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// schemaCLI runs `actord ARGS...` in-process through run. Until root.go
// registers the schema command, it adds it to a root built the same way
// and maps errors as run does.
func schemaCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	probe := &app{flagKeys: map[string]any{}}
	if c, _, err := probe.rootCmd().Find([]string{"schema"}); err == nil && c.Name() == "schema" {
		code = run(ctx, args, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, flagKeys: map[string]any{}}
	root := a.rootCmd()
	root.AddCommand(a.schemaCmd())
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		code = 0
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(&errOut, "actord: "+ee.msg)
		}
		code = ee.code
	default:
		fmt.Fprintln(&errOut, "actord: "+oneLine(err.Error()))
		code = 1
	}
	return code, out.String(), errOut.String()
}

func writeAvsc(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSchemaCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v1 := writeAvsc(t, dir, "v1.avsc", `{"type":"record","name":"Order","namespace":"shop","fields":[
		{"name":"id","type":"string"},{"name":"qty","type":"int"}]}`)
	v2 := writeAvsc(t, dir, "v2.avsc", `{"type":"record","name":"Order","namespace":"shop","fields":[
		{"name":"id","type":"string"},{"name":"qty","type":"long"},
		{"name":"note","type":["null","string"],"default":null}]}`)
	v3 := writeAvsc(t, dir, "v3.avsc", `{"type":"record","name":"Order","namespace":"shop","fields":[
		{"name":"id","type":"string"},{"name":"qty","type":"int"},{"name":"total","type":"long"}]}`)
	bad := writeAvsc(t, dir, "bad.avsc", `{"type":"record","name":"Order","fields":[{"name":"id"}]}`)

	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrPart string
	}{
		{"backward by default", []string{v1, v2}, 0, "compatible (backward)\n", ""},
		{"full fails forward", []string{v1, v2, "--mode", "full"}, 1,
			"Order.qty: long in the new schema cannot be read as int in the old schema\n",
			"v2.avsc is not full compatible with " + v1 + " (1 reason)"},
		{"forward", []string{v1, v3, "--mode", "forward"}, 0, "compatible (forward)\n", ""},
		{"backward fails", []string{v1, v3, "--mode=BACKWARD"}, 1,
			"Order.total: field has no default in the new schema and is missing from the old schema\n",
			"is not backward compatible"},
		{"bad file", []string{v1, bad}, 1, "", "bad.avsc: avro schema: Order.id: field has no \"type\""},
		{"missing file", []string{v1, filepath.Join(dir, "nope.avsc")}, 1, "", "nope.avsc: no such file or directory"},
		{"bad mode", []string{v1, v2, "--mode", "sideways"}, 1, "", `--mode: compatibility mode "sideways": want backward, forward or full`},
		{"one argument", []string{v1}, 1, "", "want OLD.avsc NEW.avsc, or NEW.avsc --subject SUBJECT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := schemaCLI(t, append([]string{"schema", "check"}, tc.args...)...)
			if code != tc.code || stdout != tc.stdout {
				t.Errorf("exit %d stdout %q, want exit %d stdout %q (stderr %q)", code, stdout, tc.code, tc.stdout, stderr)
			}
			if tc.stderrPart == "" && stderr != "" {
				t.Errorf("unexpected stderr %q", stderr)
			}
			if tc.stderrPart != "" {
				if !strings.Contains(stderr, tc.stderrPart) || strings.Count(stderr, "\n") != 1 {
					t.Errorf("stderr %q, want one line containing %q", stderr, tc.stderrPart)
				}
			}
		})
	}
}
