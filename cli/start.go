package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/internal/fromconfig"
	"github.com/actord/actord/schema"
)

func (a *app) startCmd() *cobra.Command {
	var groups []string
	cmd := &cobra.Command{
		Use:   "start [--group G]...",
		Short: "run the consumers declared in config until SIGINT or SIGTERM",
		Long: `Runs the consumers declared under "consumers:" in the config with their
built-in handler kinds (exec, http, log, forward). Topics declared under
"topics:" are reconciled first. --group (repeatable) runs only the consumers
of those groups. SIGINT or SIGTERM stops fetching, drains in-flight records,
commits and leaves the groups; a second signal exits at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			consumers, err := selectConsumers(cfg, groups)
			if err != nil {
				return err
			}
			if err := checkExecCommands(cfg, groups); err != nil {
				return err
			}
			frt, err := fromconfig.NewRuntime(cfg, actors.WithLogger(fromconfig.Logger(cfg.Log, a.stderr)))
			if err != nil {
				return err
			}
			defer frt.Close()
			rt := frt.Runtime
			if frt.Embedded != nil {
				rt.Logger().Info("embedded broker started", "addr", frt.Embedded.Addr())
			}
			if frt.EmbeddedRegistry != nil {
				rt.Logger().Info("embedded schema registry started", "url", frt.EmbeddedRegistry.URL())
			}
			var reg schema.Registry
			if frt.Registry != nil {
				reg = frt.Registry
			}
			for _, c := range consumers {
				if err := a.declare(rt, c, reg, frt.Tracer == nil); err != nil {
					rt.Stop(cmd.Context())
					return err
				}
			}
			rt.Logger().Info("actord starting", "consumers", len(consumers), "groups", groupNames(consumers),
				"brokers", strings.Join(frt.Brokers, ","))
			if err := rt.Run(cmd.Context()); err != nil {
				if cmd.Context().Err() != nil && errors.Is(err, context.Canceled) {
					// A signal before the runtime was up: nothing to drain.
					rt.Logger().Info("actord stopped before it started")
					return nil
				}
				var ue *actors.UnreachableError
				if errors.As(err, &ue) {
					return brokerUnreachable(frt.Brokers, ue.Err)
				}
				return err
			}
			rt.Logger().Info("actord stopped")
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&groups, "group", nil, "run only the consumers of this group (repeatable)")
	return cmd
}

// consumerCmd is `actord consumer start`, the seed's spelling of start.
func (a *app) consumerCmd() *cobra.Command {
	c := &cobra.Command{Use: "consumer", Short: "consumers (alias: actord consumer start = actord start)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	c.AddCommand(a.startCmd())
	return c
}

// declare declares consumer c on rt. batchable lets the log and forward
// kinds run in implicit batches (handler.NewBatch): tracing is off, for a
// batch has no process span per record.
func (a *app) declare(rt *actors.Runtime, c config.Consumer, reg schema.Registry, batchable bool) error {
	if c.Schema != nil {
		return a.declareDecoded(rt, c, reg)
	}
	opts, err := fromconfig.ConsumerOptions(c)
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	if c.ExactlyOnce {
		tf, err := handler.NewTransform(c.Handler)
		if err != nil {
			return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
		}
		return actors.Transform(rt, c.Topic, c.Group, tf, opts...)
	}
	if c.Handler.Exec.Stream() {
		return a.declareStream(rt, c)
	}
	if e := c.Handler.Exec; e != nil && e.Batch != nil {
		fn, b, err := handler.NewExecBatch(*e, a.stdout)
		if err != nil {
			return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
		}
		return actors.ConsumeBatch(rt, c.Topic, c.Group, b, fn, opts...)
	}
	if c.Handler.HTTP != nil && c.Handler.HTTP.Batch != nil {
		fn, b, err := handler.NewHTTPBatch(*c.Handler.HTTP)
		if err != nil {
			return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
		}
		return actors.ConsumeBatch(rt, c.Topic, c.Group, b, fn, opts...)
	}
	if batchable && c.TopicPattern == "" && (c.Ordering == "" || c.Ordering == config.OrderingPartition) {
		// log and forward in partition order run in implicit batches:
		// a write(2) or a produce round trip per batch, not per record.
		bh, ok, err := handler.NewBatch(c.Handler, rt, a.stdout)
		if err != nil {
			return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
		}
		if ok {
			return bh.Declare(rt, c.Topic, c.Group, opts...)
		}
	}
	fn, err := handler.New(c.Handler, rt, a.stdout)
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	return consume(rt, c, fn, opts)
}

// consume declares c with the handler fn: a consumer of its topic, or of
// every topic its topic_pattern matches.
func consume(rt *actors.Runtime, c config.Consumer, fn handler.Func, opts []actors.ConsumerOption) error {
	if c.TopicPattern != "" {
		return actors.ConsumePattern(rt, c.TopicPattern, c.Group, fn, opts...)
	}
	return actors.Consume(rt, c.Topic, c.Group, fn, opts...)
}

// selectConsumers keeps the consumers of the named groups (all when none
// is named); an unknown group is an error listing the known ones.
func selectConsumers(cfg config.Config, groups []string) ([]config.Consumer, error) {
	known := groupNames(cfg.Consumers)
	if len(cfg.Consumers) == 0 {
		where := "the config"
		if cfg.File != "" {
			where = cfg.File
		}
		return nil, fmt.Errorf("no consumers declared in %s: add a \"consumers:\" section (see README, Configuration)", where)
	}
	if len(groups) == 0 {
		return cfg.Consumers, nil
	}
	for _, g := range groups {
		if !slices.Contains(known, g) {
			return nil, fmt.Errorf("unknown group %q; the config declares: %s", g, strings.Join(known, ", "))
		}
	}
	var out []config.Consumer
	for _, c := range cfg.Consumers {
		if slices.Contains(groups, c.Group) {
			out = append(out, c)
		}
	}
	return out, nil
}

func groupNames(cs []config.Consumer) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.Group) {
			out = append(out, c.Group)
		}
	}
	return out
}
