package config

import (
	"strings"
	"testing"
)

// TestValidateConsoleAdmin: http.admin needs the listener and a token
// file; a token file without http.admin would be ignored, so it is an
// error naming the key.
func TestValidateConsoleAdmin(t *testing.T) {
	cases := []struct {
		name   string
		change func(h *HTTP)
		want   string // "" means valid
	}{
		{"off by default", func(h *HTTP) {}, ""},
		{"on with a token file", func(h *HTTP) { h.Admin, h.AdminTokenFile = true, "/etc/actord/console-token" }, ""},
		{"on without a token file", func(h *HTTP) { h.Admin = true }, "http.admin_token_file: required with http.admin: true"},
		{"on without the listener", func(h *HTTP) { h.Admin, h.AdminTokenFile, h.Listen = true, "/t", "" }, "http.admin: true needs http.listen"},
		{"token file without admin", func(h *HTTP) { h.AdminTokenFile = "/t" }, "http.admin_token_file: set without http.admin: true (it would be ignored)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c.HTTP)
			err := c.WithDefaults().Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// TestLoadConsoleAdminKeys: the keys load from the file and from the
// environment.
func TestLoadConsoleAdminKeys(t *testing.T) {
	c, err := Load(Source{Env: []string{"ACTORD_HTTP_ADMIN=true", "ACTORD_HTTP_ADMIN_TOKEN_FILE=/run/secrets/console"}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.HTTP.Admin || c.HTTP.AdminTokenFile != "/run/secrets/console" {
		t.Errorf("http section %+v, want admin on with the token file", c.HTTP)
	}
}
