package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/internal/fromconfig"
	"github.com/actord/actord/schema"
)

// registryFlag adds --registry URL to cmd: the Schema Registry, over
// schema_registry.url.
func registryFlag(cmd *cobra.Command) {
	cmd.Flags().String("registry", "", "Schema Registry `URL`, such as http://127.0.0.1:8081 (schema_registry.url)")
}

// registryClient returns the client of the registry --registry or
// schema_registry.url names; nil when neither does and required is false.
// Errors name the flag or key.
func (a *app) registryClient(cmd *cobra.Command, required bool) (*schema.RegistryClient, error) {
	if f := cmd.Flags().Lookup("registry"); f != nil && f.Changed {
		if f.Value.String() == "" {
			return nil, errors.New("--registry: want a URL such as http://127.0.0.1:8081")
		}
		a.flagKeys["schema_registry.url"] = f.Value.String()
	}
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	cl, err := fromconfig.RegistryClient(cfg.SchemaRegistry)
	if err != nil {
		return nil, err
	}
	if cl == nil && required {
		return nil, errors.New("no schema registry: pass --registry URL or set schema_registry.url")
	}
	return cl, nil
}

// registryCtx bounds one command's registry calls: every try of every
// request (see schema.RegistryConfig) and a margin, so a registry that
// never answers ends the command with an error, never a hang.
func registryCtx(parent context.Context, cl *schema.RegistryClient) (context.Context, context.CancelFunc) {
	c := cl.Config()
	return context.WithTimeout(parent, time.Duration(c.Attempts)*(c.Timeout+2*time.Second))
}

// declareDecoded declares a consumer with a schema (consumers[].schema):
// its log, exec or http handler gets each Avro value as JSON
// (handler.AvroJSON), resolved into schema.file when set, by id from reg
// with registry: true; a forward handler gets it re-encoded with
// schema.file (handler.AvroReencode). Config checked that a registry
// exists when asked for, and that forward has a file.
func (a *app) declareDecoded(rt *actors.Runtime, c config.Consumer, reg schema.Registry) error {
	opts, err := fromconfig.ConsumerOptions(c)
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	var reader *schema.Schema
	if c.Schema.File != "" {
		if reader, err = schema.Load(c.Schema.File); err != nil {
			return fmt.Errorf("consumer %s/%s: schema.file: %w", c.Source(), c.Group, err)
		}
	}
	if !c.Schema.Registry {
		reg = nil
	}
	var dec actors.Decoder
	if f := c.Handler.Forward; f != nil {
		dec, err = handler.NewAvroReencode(reader, reg, f.Topic, rt.Logger())
	} else {
		dec, err = handler.NewAvroJSON(reader, reg, rt.Logger())
	}
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	fn, err := handler.New(c.Handler, rt, a.stdout)
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	return consume(rt, c, handler.Decoded(fn), append(opts, actors.WithDecoder(dec)))
}
