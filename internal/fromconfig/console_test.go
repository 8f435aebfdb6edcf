package fromconfig_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/actortest"
	"github.com/actord/actord/config"
	"github.com/actord/actord/internal/fromconfig"
)

// TestConsoleTokenErrors: a token file that cannot serve is one error
// naming http.admin_token_file and the file, never the token.
func TestConsoleTokenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, file, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"empty", write("empty", "\n"), "is empty"},
		{"short", write("short", "sekrit-7\n"), "has 8 characters, want at least 16"},
		{"two lines", write("lines", "0123456789abcdef\nmore-of-the-token\n"), "white space or more than one line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fromconfig.ConsoleToken(config.HTTP{Admin: true, AdminTokenFile: tc.file})
			if err == nil || !strings.HasPrefix(err.Error(), "http.admin_token_file: ") || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("error %v, want http.admin_token_file naming %s and %q", err, tc.file, tc.want)
			}
			if strings.Contains(err.Error(), "sekrit") || strings.Contains(err.Error(), "more-of-the-token") {
				t.Fatalf("error %v shows the token", err)
			}
		})
	}
	tok, err := fromconfig.ConsoleToken(config.HTTP{Admin: true, AdminTokenFile: write("good", "0123456789abcdef\n")})
	if err != nil || tok != "0123456789abcdef" {
		t.Fatalf("token %q, %v", tok, err)
	}
}

// TestConfigTurnsConsoleActionsOn: a runtime built from http.admin and
// http.admin_token_file serves a console whose actions take that token
// and refuse a request without it.
func TestConfigTurnsConsoleActionsOn(t *testing.T) {
	b := actortest.Broker(t)
	token := "console-token-from-a-file"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(b.Addr())
	cfg.HTTP = config.HTTP{Listen: "127.0.0.1:0", Admin: true, AdminTokenFile: file}
	if err := cfg.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := fromconfig.NewRuntime(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	rt := r.Runtime
	if err := actors.Consume(rt, "orders", "billing", func(context.Context, actors.Message[string]) error { return nil }); err != nil {
		t.Fatal(err)
	}
	actortest.Start(t, rt)
	t.Cleanup(func() { actortest.Stop(t, rt) })
	base := "http://" + rt.MetricsAddr()
	c := &http.Client{Timeout: 10 * time.Second}
	pause := func(auth string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/consumers/pause", strings.NewReader(`{"group":"billing","topic":"orders"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := pause(""); code != http.StatusUnauthorized {
		t.Errorf("pause without the token: %d, want 401", code)
	}
	if code := pause(token); code != http.StatusOK {
		t.Errorf("pause with the token of http.admin_token_file: %d, want 200", code)
	}
	res, err := c.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Admin  bool `json:"admin"`
		Groups []struct {
			Consumers []struct {
				Paused bool `json:"paused"`
			} `json:"consumers"`
		} `json:"groups"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if !st.Admin || len(st.Groups) != 1 || !st.Groups[0].Consumers[0].Paused {
		t.Errorf("status %+v, want admin on and billing paused", st)
	}
}
