package fromconfig

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/actord/actord/broker/registry"
	"github.com/actord/actord/config"
	"github.com/actord/actord/schema"
)

// RegistryClient turns the schema_registry section into a Schema Registry
// client; nil (and no error) when no URL is set. It reads the password
// file; an error names the key and the file, never the password.
func RegistryClient(r config.SchemaRegistry) (*schema.RegistryClient, error) {
	if !r.On() {
		return nil, nil
	}
	pass := r.Auth.Password
	if f := r.Auth.PasswordFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("schema_registry.auth.password_file: %w", err)
		}
		if pass = strings.TrimRight(string(b), "\r\n"); pass == "" {
			return nil, fmt.Errorf("schema_registry.auth.password_file: %s is empty", f)
		}
	}
	strategy, err := schema.ParseSubjectStrategy(r.SubjectStrategy)
	if err != nil {
		return nil, fmt.Errorf("schema_registry.subject_strategy: %w", err)
	}
	mode := schema.AutoRegister
	if !r.AutoRegister {
		mode = schema.UseLatest
	}
	cl, err := schema.NewRegistryClient(schema.RegistryConfig{
		URLs:     r.URLs(),
		Username: r.Auth.Username,
		Password: pass,
		CAFile:   r.TLS.CAFile,
		Timeout:  r.Timeout,
		Strategy: strategy,
		Mode:     mode,
	})
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) || strings.Contains(err.Error(), "CA file") {
			return nil, fmt.Errorf("schema_registry.tls.ca_file: %w", err)
		}
		return nil, fmt.Errorf("schema_registry: %w", err)
	}
	return cl, nil
}

// StartRegistry starts the embedded Schema Registry of the broker section
// (broker.schema_registry.listen), keeping its journal in broker.data_dir;
// nil (and no error) when no listen address is set.
func StartRegistry(b config.Broker) (*registry.Server, error) {
	if b.SchemaRegistry.Listen == "" {
		return nil, nil
	}
	return registry.Start(registry.Config{Listen: b.SchemaRegistry.Listen, DataDir: b.DataDir})
}
