package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/kafkatest"
)

// writeFile writes content to a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// processResult is what one run of the built binary produced.
type processResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBinary runs the built actord in dir (empty: the test's) with args
// and env added to a clean environment (no ACTORD_* from the test's own).
func runBinary(t *testing.T, ctx context.Context, dir string, env []string, args ...string) processResult {
	t.Helper()
	cmd := exec.CommandContext(ctx, actordBinary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	res := processResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(began)}
	if ctx.Err() != nil {
		t.Fatalf("actord %s: still running at the deadline; stderr %q", strings.Join(args, " "), res.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("actord %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// assertNoSecret fails the test when any output holds one of secrets.
func assertNoSecret(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s shows a secret (%q): %q", what, s, out)
		}
	}
}

// TestBrokerCommandRequiresSASLAndTLS runs `actord broker` requiring
// SCRAM-SHA-256 over TLS as a real process, then `actord topics` as real
// processes against it: the right credentials work, a wrong password fails
// at once with one line naming the user and the mechanism, and no password
// shows anywhere.
func TestBrokerCommandRequiresSASLAndTLS(t *testing.T) {
	ctx := deadlineCtx(t, 90*time.Second)
	dir := t.TempDir()
	certs := kafkatest.NewPKI(t)
	const brokerPassword = "broker-side-s3cret"
	const wrongPassword = "not-the-password-42"
	passFile := writeFile(t, dir, "password", brokerPassword+"\n")

	p := startBrokerProcess(t, ctx, "--listen", "127.0.0.1:0",
		"--sasl-mechanism", "SCRAM-SHA-256", "--sasl-user", "admin", "--sasl-password-file", passFile,
		"--tls-cert", certs.CertFile, "--tls-key", certs.KeyFile)
	if args := strings.Join(p.cmd.Args, " "); strings.Contains(args, brokerPassword) {
		t.Fatalf("the broker's command line shows the password: %s", args)
	}

	clientConfig := func(name, sasl string) string {
		return writeFile(t, dir, name, fmt.Sprintf(`kafka:
  bootstrap_servers: %s
  request_timeout: 10s
  sasl:
    mechanism: SCRAM-SHA-256
    user: admin
%s
  tls:
    enabled: true
    ca_file: %s
    server_name: broker.test
`, p.addr, sasl, certs.CAFile))
	}
	good := clientConfig("good.yaml", "    password_file: "+passFile)
	bad := clientConfig("bad.yaml", "    password: "+wrongPassword)
	fromEnv := clientConfig("env.yaml", "")

	// topics create has a --config of its own (topic configs): it reads
	// ./actord.yaml.
	cwd := t.TempDir()
	writeFile(t, cwd, config.DefaultFile, readFile(t, good))
	if res := runBinary(t, ctx, cwd, nil, "topics", "create", "orders", "--partitions", "2"); res.code != 0 {
		t.Fatalf("topics create with the right password: exit %d, stderr %q", res.code, res.stderr)
	}
	res := runBinary(t, ctx, "", nil, "topics", "list", "--config", good)
	if res.code != 0 || !strings.Contains(res.stdout, "orders") {
		t.Fatalf("topics list with the right password: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res = runBinary(t, ctx, "", []string{"ACTORD_KAFKA_SASL_PASSWORD=" + brokerPassword}, "topics", "list", "--config", fromEnv)
	if res.code != 0 || !strings.Contains(res.stdout, "orders") {
		t.Fatalf("topics list with the password from the environment: exit %d, stderr %q", res.code, res.stderr)
	}

	refused := []struct {
		name string
		env  []string
		cfg  string
	}{
		{"password in the config file", nil, bad},
		{"password in the environment", []string{"ACTORD_KAFKA_SASL_PASSWORD=" + wrongPassword}, fromEnv},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			res := runBinary(t, ctx, "", c.env, "topics", "list", "--config", c.cfg)
			assertOneLineError(t, res.code, res.stderr,
				"authentication failed", `user "admin"`, "SCRAM-SHA-256", p.addr)
			assertNoSecret(t, "stderr", res.stderr+res.stdout, wrongPassword, brokerPassword)
			if limit := 10*time.Second + 2*time.Second; res.took > limit {
				t.Errorf("failed after %v, want under %v", res.took, limit)
			}
			t.Logf("%v: %s", res.took.Round(time.Millisecond), strings.TrimSpace(res.stderr))
		})
	}

	if err := p.stop(t, ctx, syscall.SIGTERM); err != nil {
		t.Fatalf("actord broker exit: %v; stderr %q", err, p.stderr.String())
	}
	assertNoSecret(t, "the broker's stderr", p.stderr.String(), brokerPassword, wrongPassword)
}

// TestAuthFailedEveryCommand: each command that talks to the cluster
// reports refused credentials as one line, without the password, within
// the request timeout.
func TestAuthFailedEveryCommand(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	dir := t.TempDir()
	const wrongPassword = "wrong-horse-battery"
	passFile := writeFile(t, dir, "password", "correct-horse-battery")
	p := startBrokerProcess(t, ctx, "--listen", "127.0.0.1:0",
		"--sasl-mechanism", "PLAIN", "--sasl-user", "svc", "--sasl-password-file", passFile)
	cfg := writeFile(t, dir, "actord.yaml", fmt.Sprintf(`kafka:
  bootstrap_servers: %s
  request_timeout: 5s
  sasl: {mechanism: PLAIN, user: svc, password: %s}
consumers:
  - topic: orders
    group: processor
    handler: {log: {}}
`, p.addr, wrongPassword))
	for _, args := range [][]string{
		{"topics", "list"},
		{"topics", "describe", "orders"},
		{"produce", "orders"},
		{"consume", "orders", "-n", "1"},
		{"groups", "list"},
		{"dlq", "list", "orders.dlq"},
		{"start"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			began := time.Now()
			res := runCLI(t, ctx, "a record\n", append(args, "--config", cfg)...)
			took := time.Since(began)
			// start logs its own lines first; the failure is the last.
			lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
			assertOneLineError(t, res.code, lines[len(lines)-1]+"\n",
				"authentication failed", `user "svc"`, "PLAIN")
			assertNoSecret(t, "output", res.stdout+res.stderr, wrongPassword, "correct-horse-battery")
			if limit := 5*time.Second + 2*time.Second; took > limit {
				t.Errorf("failed after %v, want under %v", took, limit)
			}
		})
	}
}

// TestBrokerCommandPasswordFromEnv: with no password flag, the broker
// takes its password from ACTORD_BROKER_SASL_PASSWORD.
func TestBrokerCommandPasswordFromEnv(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	const password = "env-only-passw0rd"
	// The broker process inherits it; the clients below run with a clean
	// environment.
	t.Setenv("ACTORD_BROKER_SASL_PASSWORD", password)
	p := startBrokerProcess(t, ctx, "--listen", "127.0.0.1:0", "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", "admin")
	dir := t.TempDir()
	for _, c := range []struct {
		password string
		ok       bool
	}{{password, true}, {password + "x", false}} {
		cfg := writeFile(t, dir, "c.yaml", fmt.Sprintf("kafka:\n  bootstrap_servers: %s\n  sasl: {mechanism: SCRAM-SHA-512, user: admin, password: %q}\n", p.addr, c.password))
		res := runBinary(t, ctx, "", nil, "topics", "list", "--config", cfg)
		if (res.code == 0) != c.ok {
			t.Errorf("topics list with password ok=%v: exit %d, stderr %q", c.ok, res.code, res.stderr)
		}
	}
	if err := p.stop(t, ctx, syscall.SIGTERM); err != nil {
		t.Fatalf("actord broker exit: %v", err)
	}
	assertNoSecret(t, "the broker's stderr", p.stderr.String(), password)
}

// TestHelpShowsNoSecret: `actord broker --help` (and the root help) offer
// no password flag and print no password, wherever the passwords are set.
func TestHelpShowsNoSecret(t *testing.T) {
	ctx := deadlineCtx(t, 60*time.Second)
	dir := t.TempDir()
	secrets := []string{"file-secret-1", "env-secret-2", "env-secret-3", "file-secret-4"}
	cfg := writeFile(t, dir, "actord.yaml", fmt.Sprintf(`kafka:
  sasl: {mechanism: PLAIN, user: u, password: %s}
broker:
  sasl: {mechanism: PLAIN, user: u, password: %s}
`, secrets[0], secrets[3]))
	env := []string{"ACTORD_BROKER_SASL_PASSWORD=" + secrets[1], "ACTORD_KAFKA_SASL_PASSWORD=" + secrets[2]}
	for _, args := range [][]string{
		{"broker", "--help", "--config", cfg},
		{"broker", "-h"},
		{"--help"},
	} {
		res := runBinary(t, ctx, "", env, args...)
		out := res.stdout + res.stderr
		assertNoSecret(t, "actord "+strings.Join(args, " "), out, secrets...)
		if args[0] == "broker" {
			if res.code != 0 || !strings.Contains(out, "--sasl-password-file") {
				t.Errorf("actord %s: exit %d, want a help that offers --sasl-password-file: %q", strings.Join(args, " "), res.code, out)
			}
			if regexp.MustCompile(`--sasl-password\b[^-]`).MatchString(out) {
				t.Errorf("actord %s offers a password flag: %q", strings.Join(args, " "), out)
			}
		}
	}
	// No such flag: one line, no secret.
	res := runBinary(t, ctx, "", env, "broker", "--sasl-password", secrets[1])
	assertOneLineError(t, res.code, res.stderr, "unknown flag: --sasl-password")
	assertNoSecret(t, "actord broker --sasl-password", res.stdout+res.stderr, secrets...)
}

// TestBrokerCommandSecurityErrors: a broker that cannot honour its
// security settings says so in one line, without the password.
func TestBrokerCommandSecurityErrors(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	dir := t.TempDir()
	certs := kafkatest.NewPKI(t)
	const secret = "do-not-print-me"
	passFile := writeFile(t, dir, "password", secret)
	missing := filepath.Join(dir, "missing")
	typo := writeFile(t, dir, "typo.yaml", "broker:\n  sasl:\n    mechanism: PLAIN\n    user: u\n    pasword: "+secret+"\n")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--sasl-mechanism", "PLAIN", "--sasl-user", "u"}, []string{"broker.sasl.password", "required"}},
		{[]string{"--sasl-mechanism", "PLAIN", "--sasl-password-file", passFile}, []string{"broker.sasl.user", "required"}},
		{[]string{"--sasl-mechanism", "OAUTHBEARER", "--sasl-user", "u", "--sasl-password-file", passFile}, []string{"broker.sasl.mechanism", "OAUTHBEARER"}},
		{[]string{"--sasl-user", "u", "--sasl-password-file", passFile}, []string{"broker.sasl.mechanism", "required"}},
		{[]string{"--sasl-mechanism", "PLAIN", "--sasl-user", "u", "--sasl-password-file", missing}, []string{"broker.sasl.password_file", missing}},
		{[]string{"--tls-cert", certs.CertFile}, []string{"broker.tls.key_file", "required"}},
		{[]string{"--tls-client-ca", certs.CAFile}, []string{"broker.tls.cert_file", "required"}},
		{[]string{"--tls-cert", certs.CertFile, "--tls-key", certs.CAFile}, []string{"broker.tls", certs.CAFile}},
		{[]string{"--tls-cert", certs.CertFile, "--tls-key", certs.KeyFile, "--tls-client-ca", passFile}, []string{"broker.tls.client_ca_file", "no PEM certificate"}},
		{[]string{"--config", typo}, []string{"broker.sasl.pasword"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			res := runCLI(t, ctx, "", append([]string{"broker", "--listen", "127.0.0.1:0"}, c.args...)...)
			assertOneLineError(t, res.code, res.stderr, c.want...)
			assertNoSecret(t, "output", res.stdout+res.stderr, secret)
		})
	}
}

// TestEmbeddedNeedsClientSecurity: with kafka.enabled false, a broker that
// requires SASL or TLS needs the in-process clients to be configured for
// it, and the config check says so up front.
func TestEmbeddedNeedsClientSecurity(t *testing.T) {
	ctx := deadlineCtx(t, 30*time.Second)
	dir := t.TempDir()
	certs := kafkatest.NewPKI(t)
	sasl := writeFile(t, dir, "sasl.yaml", "broker:\n  listen: 127.0.0.1:0\n  sasl: {mechanism: PLAIN, user: u, password: pw-embedded}\n")
	tls := writeFile(t, dir, "tls.yaml", fmt.Sprintf("broker:\n  listen: 127.0.0.1:0\n  tls: {cert_file: %s, key_file: %s}\n", certs.CertFile, certs.KeyFile))
	res := runCLI(t, ctx, "", "topics", "list", "--embedded", "--config", sasl)
	assertOneLineError(t, res.code, res.stderr, "kafka.sasl.mechanism", "kafka.enabled is false")
	assertNoSecret(t, "output", res.stdout+res.stderr, "pw-embedded")
	res = runCLI(t, ctx, "", "topics", "list", "--embedded", "--config", tls)
	assertOneLineError(t, res.code, res.stderr, "kafka.tls.enabled", "kafka.enabled is false")
}

// TestHTTPListenDefaultsToLoopback: the metrics and health listener is
// reachable from this machine only unless configured otherwise.
func TestHTTPListenDefaultsToLoopback(t *testing.T) {
	empty := writeFile(t, t.TempDir(), "empty.yaml", "")
	cfg, err := config.Load(config.Source{File: empty, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, listen := range []string{config.Default().HTTP.Listen, cfg.HTTP.Listen} {
		if listen != "127.0.0.1:9464" {
			t.Errorf("http.listen default %q, want 127.0.0.1:9464", listen)
		}
		host, _, err := net.SplitHostPort(listen)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("http.listen default %q does not bind to loopback", listen)
		}
	}
}
