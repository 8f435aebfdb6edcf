package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as the config file. Load must
// never panic, and a config it accepts must pass Validate.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"",
		"service: shop\n",
		"kafka: {enabled: false, bootstrap_servers: 'a:1,b:2'}\n",
		"kafka: 5\n",
		"- a\n",
		"a: [\n",
		"1: x\n",
		"'': 1\n",
		"\"kafka.enabled\": false\n",
		"runtime: {commit_interval: 100}\n",
		"topics: [orders, {name: x, partitions: 3, config: {retention.ms: 1}}]\n",
		"consumers:\n  - topic: orders\n    group: g\n    backoff: {initial: 1s, max: 10s, multiplier: .inf, jitter: .nan}\n    handler: {log: }\n",
		"consumers:\n  - {topic: o, group: g, handler: {exec: [./h.sh]}, max_retries: null, dead_letter: false}\n",
		"consumers: [{topic: o, group: g, handler: {http: {url: 'http://h/', timeout: 0}}}]\n",
		"consumers: [{handler: {exce: [x]}}, 7, [1]]\n",
		"kafka:\n  sasl: {mechanism: PLAIN, user: u, password: p}\n  tls: {enabled: true, cert_file: c}\n",
		"a: &a {b: *a}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(Source{File: path, Env: noEnv})
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Load accepted a config that Validate rejects: %v\n%q", err, data)
		}
	})
}
