// Package cli is actord's command line: the cobra commands behind the
// `actord` binary (broker, topics, produce, consume, start, groups, version).
// A service that wants this command line around its own handlers calls Main
// with its options; cmd/actord is that call with the built-in handler kinds
// only.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/internal/fromconfig"
)

// Version is the actord version printed by `actord version`; set at build
// time with -ldflags "-X github.com/actord/actord/cli.Version=...".
var Version = "dev"

// app is the state shared by every command of one invocation.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	// Global flags.
	configFile string
	brokers    string
	output     string
	embedded   bool

	// flagKeys maps config keys to the values of flags the user set.
	flagKeys map[string]any
}

// Main runs the actord command line with args (without the program name)
// and returns the process exit code. Errors are printed as one line on
// stderr; a user mistake never shows a Go stack trace.
func Main(args []string) int {
	return run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, flagKeys: map[string]any{}}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signalContext(ctx, stderr)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "actord: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "actord: "+oneLine(err.Error()))
	return 1
}

// exitError carries a specific exit code (for example `schema check`'s 1
// with reasons already printed).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// signalContext cancels ctx on the first SIGINT or SIGTERM and exits the
// process at once on the second.
func signalContext(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			fmt.Fprintln(stderr, "actord: second signal, exiting now")
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(ch); close(done); cancel() }
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "actord",
		Short:         "actord: an actor-model messaging runtime on Apache Kafka",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "config file (default ./actord.yaml when present)")
	pf.StringVar(&a.brokers, "brokers", "", "bootstrap servers host:port,... (overrides kafka.bootstrap_servers)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format of listings: table or json")
	pf.BoolVar(&a.embedded, "embedded", false, "run the embedded broker in-process (kafka.enabled: false)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	root.AddCommand(
		a.versionCmd(),
		a.brokerCmd(),
		a.topicsCmd(),
		a.produceCmd(),
		a.consumeCmd(),
		a.startCmd(),
		a.consumerCmd(),
		a.dlqCmd(),
		a.groupsCmd(),
		a.schemaCmd(),
	)
	return root
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the actord version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stdout, "actord "+Version)
			return nil
		},
	}
}

// loadConfig reads the configuration for this invocation: file, env, then
// the global flags the user set.
func (a *app) loadConfig(cmd *cobra.Command) (config.Config, error) {
	if cmd.Flags().Changed("brokers") {
		a.flagKeys["kafka.bootstrap_servers"] = a.brokers
	}
	if a.embedded {
		a.flagKeys["kafka.enabled"] = false
	}
	return config.Load(config.Source{File: a.configFile, Flags: a.flagKeys})
}

// checkExecCommands refuses, before anything is consumed, an exec handler
// of a consumer `actord start` runs (those of its --group selection, all
// without one) whose command cannot be run (see handler.CheckCommand):
// it would fail and dead-letter every record. Each problem is one line
// naming the key and the command, e.g.
//
//	actord.yaml: consumers[0].handler.exec: "/nonexistent/handler": no such file or directory
func checkExecCommands(cfg config.Config, groups []string) error {
	var errs []error
	for i, c := range cfg.Consumers {
		if c.Handler.Exec == nil || len(groups) > 0 && !slices.Contains(groups, c.Group) {
			continue
		}
		if err := handler.CheckCommand(c.Handler.Exec.Command); err != nil {
			errs = append(errs, &config.KeyError{Source: cfg.File, Key: fmt.Sprintf("consumers[%d].handler.exec", i), Err: err})
		}
	}
	return errors.Join(errs...)
}

// connect resolves the bootstrap servers for cfg, starting the embedded
// broker in-process when kafka.enabled is false, with the embedded Schema
// Registry when broker.schema_registry.listen is set (which then is
// schema_registry.url unless that is set). The returned function stops
// what connect started.
func (a *app) connect(cfg *config.Config) (func(), error) {
	if cfg.Kafka.Enabled {
		return func() {}, nil
	}
	b, err := fromconfig.StartBroker(cfg.Broker)
	if err != nil {
		return nil, err
	}
	cfg.Kafka.BootstrapServers = b.Addr()
	reg, err := fromconfig.StartRegistry(cfg.Broker)
	if err != nil {
		b.Close()
		return nil, err
	}
	if reg == nil {
		return b.Close, nil
	}
	if cfg.SchemaRegistry.URL == "" {
		cfg.SchemaRegistry.URL = reg.URL()
	}
	return func() { reg.Close(); b.Close() }, nil
}

// cluster loads this invocation's configuration, starts the embedded
// broker when it asks for one, and returns the client options for the
// cluster; stop ends what it started.
func (a *app) cluster(cmd *cobra.Command) (cfg config.Config, opts []kgo.Opt, stop func(), err error) {
	if cfg, err = a.loadConfig(cmd); err != nil {
		return cfg, nil, nil, err
	}
	if stop, err = a.connect(&cfg); err != nil {
		return cfg, nil, nil, err
	}
	if opts, err = fromconfig.ClientOpts(cfg.Kafka); err != nil {
		stop()
		return cfg, nil, nil, err
	}
	return cfg, opts, stop, nil
}

// checkOutput validates -o for listing commands.
func (a *app) checkOutput() error {
	switch a.output {
	case "table", "json":
		return nil
	}
	return fmt.Errorf("-o %q: want table or json", a.output)
}
