package cli

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParseHeaders feeds arbitrary --header values to the parser of
// `actord produce`. It must never panic; it accepts exactly the values
// with a non-empty name before the first '=' and keeps name and value
// intact (the value may hold '=' itself); it rejects the others with an
// error that quotes the offending flag.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range [][2]string{
		{"source=cli", "trace=a=b"}, {"k=", "=v"}, {"no-equals", "k=v"}, {"", ""}, {"=", "=="},
		{" k = v ", "k=v\n"}, {"k=\xff", "\x00=\x00"}, {"ключ=значение", "k=v"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		flags := []string{a, b}
		hs, err := parseHeaders(flags)
		bad, rejected := "", false
		for _, fl := range flags {
			if k, _, ok := strings.Cut(fl, "="); !ok || k == "" {
				bad, rejected = fl, true
				break
			}
		}
		if rejected {
			if err == nil {
				t.Fatalf("accepted --header %q", bad)
			}
			if msg := err.Error(); !strings.Contains(msg, "--header") || !strings.Contains(msg, fmt.Sprintf("%q", bad)) || !strings.Contains(msg, "k=v") {
				t.Fatalf("error %q: want it to quote --header %q and say k=v", msg, bad)
			}
			return
		}
		if err != nil {
			t.Fatalf("rejected %q: %v", flags, err)
		}
		if len(hs) != len(flags) {
			t.Fatalf("%d headers from %d flags", len(hs), len(flags))
		}
		for i, h := range hs {
			if h.Key+"="+string(h.Value) != flags[i] || strings.Contains(h.Key, "=") {
				t.Fatalf("--header %q became %q=%q", flags[i], h.Key, h.Value)
			}
		}
	})
}

// FuzzParseTopicConfigs feeds arbitrary --config values to the parser of
// `actord topics create`. It must never panic; it accepts key=value with a
// non-empty (trimmed) key given once, keeping the value as it is; it
// rejects the others with an error that names the flag and the problem.
func FuzzParseTopicConfigs(f *testing.F) {
	for _, s := range [][2]string{
		{"retention.ms=86400000", "cleanup.policy=compact,delete"}, {"a=1", "a=2"}, {" a =1", "a= 2"},
		{"noequals", "x=y"}, {"=v", " =v"}, {"k=a=b", "k2="}, {"", "k=v"}, {"\t=1", "k\xff=\x00"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		flags := []string{a, b}
		out, err := parseTopicConfigs(flags)
		want := map[string]string{}
		var problem string
		for _, fl := range flags {
			k, v, ok := strings.Cut(fl, "=")
			k = strings.TrimSpace(k)
			switch _, dup := want[k]; {
			case !ok || k == "":
				problem = fmt.Sprintf("--config %q: want key=value", fl)
			case dup:
				problem = fmt.Sprintf("--config %s: given more than once", k)
			}
			if problem != "" {
				break
			}
			want[k] = v
		}
		if problem != "" {
			if err == nil || !strings.Contains(err.Error(), problem) {
				t.Fatalf("flags %q: error %v, want one containing %q", flags, err, problem)
			}
			return
		}
		if err != nil {
			t.Fatalf("rejected %q: %v", flags, err)
		}
		if len(out) != len(want) {
			t.Fatalf("flags %q: got %v, want %v", flags, out, want)
		}
		for k, v := range want {
			if out[k] != v {
				t.Fatalf("flags %q: %s = %q, want %q", flags, k, out[k], v)
			}
		}
	})
}
