package config

import (
	"strings"
	"testing"
	"time"
)

// The schema_registry section: each problem names its key; keys that
// would be ignored without a URL are errors; the password never shows.
func TestSchemaRegistryKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *SchemaRegistry)
		want   string // "" means valid
	}{
		{"no registry", func(r *SchemaRegistry) {}, ""},
		{"url", func(r *SchemaRegistry) { r.URL = "http://localhost:8081" }, ""},
		{"two urls, basic auth, CA", func(r *SchemaRegistry) {
			r.URL = "https://a:8081, https://b:8081"
			r.Auth = RegistryAuth{Username: "svc", PasswordFile: "/run/pw"}
			r.TLS.CAFile = "/etc/ca.pem"
			r.SubjectStrategy = "topic_record"
			r.AutoRegister = false
		}, ""},
		{"username without url", func(r *SchemaRegistry) { r.Auth.Username = "svc" }, "schema_registry.auth.username: set while schema_registry.url is empty"},
		{"auto_register off without url", func(r *SchemaRegistry) { r.AutoRegister = false }, "schema_registry.auto_register: set while schema_registry.url is empty"},
		{"strategy without url", func(r *SchemaRegistry) { r.SubjectStrategy = "record" }, "schema_registry.subject_strategy: set while"},
		{"not a url", func(r *SchemaRegistry) { r.URL = "localhost:8081" }, `schema_registry.url: "localhost:8081" is not an http:// or https:// URL`},
		{"credentials in url", func(r *SchemaRegistry) { r.URL = "http://svc:hunter2@localhost:8081" }, "schema_registry.url: \"http://svc:xxxxx@localhost:8081\" carries credentials"},
		{"password and file", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.Auth = RegistryAuth{Username: "svc", Password: "hunter2", PasswordFile: "/run/pw"}
		}, "schema_registry.auth.password_file: set together with schema_registry.auth.password"},
		{"password without user", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.Auth.Password = "hunter2"
		}, "schema_registry.auth.username: required"},
		{"user without password", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.Auth.Username = "svc"
		}, "schema_registry.auth.password: required"},
		{"CA with http", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.TLS.CAFile = "/etc/ca.pem"
		}, "schema_registry.tls.ca_file: set while no schema_registry.url is https://"},
		{"bad strategy", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.SubjectStrategy = "by-topic"
		}, `schema_registry.subject_strategy: "by-topic" is not one of topic, record, topic_record`},
		{"timeout 0", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.Timeout = 0
		}, "schema_registry.timeout: must be between"},
		{"timeout an hour", func(r *SchemaRegistry) {
			r.URL = "http://localhost:8081"
			r.Timeout = time.Hour
		}, "schema_registry.timeout: must be between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c.SchemaRegistry)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate = %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the password shows in %v", err)
			}
		})
	}
	c := validConfig()
	c.Broker.SchemaRegistry.Listen = "localhost"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "broker.schema_registry.listen") {
		t.Errorf("bad broker.schema_registry.listen: %v", err)
	}
	c.SchemaRegistry.Auth.Password = "hunter2"
	if r := c.Redacted(); r.SchemaRegistry.Auth.Password != "***" {
		t.Errorf("redacted registry password: %q", r.SchemaRegistry.Auth.Password)
	}
}

// The section loads from the file and the environment.
func TestSchemaRegistryLoads(t *testing.T) {
	path := writeConfig(t, "schema_registry:\n  url: http://reg:8081\n  subject_strategy: record\n  auth: {username: svc}\nbroker:\n  schema_registry: {listen: 127.0.0.1:0}\n")
	cfg := mustLoad(t, Source{File: path, Env: []string{"ACTORD_SCHEMA_REGISTRY_AUTH_PASSWORD=from-env", "ACTORD_SCHEMA_REGISTRY_AUTO_REGISTER=false"}})
	r := cfg.SchemaRegistry
	if r.URL != "http://reg:8081" || r.SubjectStrategy != "record" || r.Auth.Username != "svc" || r.Auth.Password != "from-env" || r.AutoRegister || r.Timeout != DefaultRegistryTimeout {
		t.Errorf("loaded %+v", r)
	}
	if cfg.Broker.SchemaRegistry.Listen != "127.0.0.1:0" {
		t.Errorf("broker.schema_registry.listen = %q", cfg.Broker.SchemaRegistry.Listen)
	}
	_, err := Load(Source{File: writeConfig(t, "schema_registry:\n  urll: http://reg:8081\n"), Env: noEnv})
	if err == nil || !strings.Contains(err.Error(), "schema_registry.urll") {
		t.Errorf("misspelt key: %v", err)
	}
}

// With kafka.enabled false and broker.schema_registry.listen, the
// embedded registry stands for an empty url: its other keys apply.
func TestSchemaRegistryEmbedded(t *testing.T) {
	c := validConfig()
	c.Kafka.Enabled = false
	c.Broker.SchemaRegistry.Listen = "127.0.0.1:0"
	c.SchemaRegistry.SubjectStrategy = "record"
	c.SchemaRegistry.AutoRegister = false
	if err := c.Validate(); err != nil {
		t.Errorf("embedded registry with a strategy: %v", err)
	}
	c.SchemaRegistry.TLS.CAFile = "/etc/ca.pem"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "schema_registry.tls.ca_file") {
		t.Errorf("embedded registry (http) with a CA file: %v", err)
	}
}
