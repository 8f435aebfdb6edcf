package fromconfig

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/actord/actord/config"
	"github.com/actord/actord/schema"
)

// The schema_registry section builds a client that authenticates with the
// password file's password and names subjects by the strategy; its errors
// name the key and the file, never the password.
func TestRegistryClientFromConfig(t *testing.T) {
	fake := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("svc:file-pw"))))
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("file-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := config.Default().SchemaRegistry
	if cl, err := RegistryClient(r); cl != nil || err != nil {
		t.Fatalf("no url: %v, %v; want no client", cl, err)
	}
	r.URL = fake.URL()
	r.Auth = config.RegistryAuth{Username: "svc", PasswordFile: pw}
	r.SubjectStrategy = "topic_record"
	cl, err := RegistryClient(r)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := schema.MustParse(`{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}`)
	subject, _ := schema.SubjectFor(cl, "orders", s, false)
	if subject != "orders-shop.Order" {
		t.Errorf("subject %q", subject)
	}
	if _, err := cl.Register(ctx, subject, s); err != nil {
		t.Fatalf("register with the file's password: %v", err)
	}
	r.AutoRegister = false
	cl, _ = RegistryClient(r)
	if cl.Config().Mode != schema.UseLatest {
		t.Errorf("auto_register false: mode %v", cl.Config().Mode)
	}

	for _, tc := range []struct {
		change func(r *config.SchemaRegistry)
		want   []string
	}{
		{func(r *config.SchemaRegistry) { r.Auth.PasswordFile = filepath.Join(dir, "missing") }, []string{"schema_registry.auth.password_file", "missing"}},
		{func(r *config.SchemaRegistry) {
			os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
			r.Auth.PasswordFile = filepath.Join(dir, "empty")
		}, []string{"schema_registry.auth.password_file", "is empty"}},
		{func(r *config.SchemaRegistry) {
			r.URL = "https://reg:8081"
			r.TLS.CAFile = filepath.Join(dir, "no-ca.pem")
		}, []string{"schema_registry.tls.ca_file", "no-ca.pem"}},
	} {
		bad := r
		tc.change(&bad)
		_, err := RegistryClient(bad)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v, want %q", bad, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "file-pw") {
			t.Errorf("the password shows: %v", err)
		}
	}
}

// kafka.enabled false with broker.schema_registry.listen: NewRuntime
// starts the embedded registry beside the embedded broker, and the
// runtime's registry client (schema_registry.url left empty) is it.
func TestNewRuntimeStartsEmbeddedRegistry(t *testing.T) {
	cfg := config.Default()
	cfg.Kafka.Enabled = false
	cfg.Broker.Listen = "127.0.0.1:0"
	cfg.Broker.SchemaRegistry.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = ""
	if err := cfg.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(cfg.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.EmbeddedRegistry == nil || rt.Registry == nil || rt.Registry.Config().URLs[0] != rt.EmbeddedRegistry.URL() {
		t.Fatalf("embedded registry %v, client %v", rt.EmbeddedRegistry, rt.Registry)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := schema.MustParse(`"string"`)
	if _, err := rt.Registry.Register(ctx, "x-value", s); err != nil {
		t.Fatal(err)
	}
	if n := rt.EmbeddedRegistry.Requests(); n != 1 {
		t.Errorf("embedded registry answered %d requests, want 1", n)
	}
}
