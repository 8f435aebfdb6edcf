package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/actord/actord/topics"
)

// topicsDefaultTimeout bounds a topics command when kafka.request_timeout
// is unset (zero).
const topicsDefaultTimeout = 10 * time.Second

func (a *app) topicsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "list, create, describe and delete topics",
		Long: `Manage the cluster's topics. Every command waits at most
kafka.request_timeout (default 10s) for the cluster.`,
		Args: cobra.ArbitraryArgs,
		// Without RunE cobra answers an unknown subcommand with the
		// help text and exit 0.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("unknown command %q for %q (want list, create, describe or delete)", args[0], cmd.CommandPath())
		},
	}
	cmd.AddCommand(a.topicsListCmd(), a.topicsCreateCmd(), a.topicsDescribeCmd(), a.topicsDeleteCmd())
	return cmd
}

func (a *app) topicsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "list the topics (without internal ones), sorted by name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *topics.Admin) error {
				list, err := adm.List(ctx)
				if err != nil {
					return err
				}
				if a.output == "json" {
					return writeTopicsJSON(a.stdout, list)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tPARTITIONS\tREPLICATION FACTOR")
				for _, t := range list {
					fmt.Fprintf(tw, "%s\t%d\t%d\n", t.Name, t.Partitions, t.ReplicationFactor)
				}
				return tw.Flush()
			})
		},
	}
}

func (a *app) topicsCreateCmd() *cobra.Command {
	var (
		partitions  int32
		replication int16
		configs     []string
		ifNotExists bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "create a topic",
		Long: `Create a topic. --config sets a topic config (for example
--config retention.ms=86400000) and may be repeated; on this command it does
not name the actord config file (use ./actord.yaml or ACTORD_* variables).`,
		Args: oneTopicName,
		RunE: func(cmd *cobra.Command, args []string) error {
			t := topics.Topic{Name: args[0], Partitions: partitions, ReplicationFactor: replication}
			if cmd.Flags().Changed("partitions") && partitions < 1 {
				return fmt.Errorf("--partitions %d: must be at least 1", partitions)
			}
			if cmd.Flags().Changed("replication-factor") && replication < 1 {
				return fmt.Errorf("--replication-factor %d: must be at least 1", replication)
			}
			var err error
			if t.Config, err = parseTopicConfigs(configs); err != nil {
				return err
			}
			if err := t.Validate(); err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *topics.Admin) error {
				err := adm.Create(ctx, t, false)
				if ifNotExists && errors.Is(err, topics.ErrTopicExists) {
					fmt.Fprintf(a.stdout, "topic %q already exists\n", t.Name)
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created topic %q (%s, replication factor %d)\n",
					t.Name, partitionCount(max(t.Partitions, 1)), max(t.ReplicationFactor, 1))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.Int32Var(&partitions, "partitions", 0, "number of partitions (default 1)")
	f.Int16Var(&replication, "replication-factor", 0, "replicas of each partition (default 1)")
	f.StringArrayVar(&configs, "config", nil, "topic config key=value (repeatable), e.g. retention.ms=86400000")
	f.BoolVar(&ifNotExists, "if-not-exists", false, "succeed without change when the topic exists")
	return cmd
}

func (a *app) topicsDescribeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "show a topic's partitions (leader, replicas, in-sync replicas) and configs",
		Args:  oneTopicName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if err := topics.ValidateName(args[0]); err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *topics.Admin) error {
				info, err := adm.Describe(ctx, args[0])
				if err != nil {
					return err
				}
				if a.output == "json" {
					return writeTopicsJSON(a.stdout, info)
				}
				return a.printTopic(info)
			})
		},
	}
}

func (a *app) topicsDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "delete a topic and its records",
		Args:  oneTopicName,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := topics.ValidateName(args[0]); err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *topics.Admin) error {
				if err := adm.Delete(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted topic %q\n", args[0])
				return nil
			})
		},
	}
}

// withAdmin runs fn with a topics Admin on the configured cluster, as
// withClient does.
func (a *app) withAdmin(cmd *cobra.Command, fn func(context.Context, *topics.Admin) error) error {
	return a.withClient(cmd, func(ctx context.Context, cl *kgo.Client) error {
		return closedUnanswered(ctx, cl, strings.Join(append([]string{strings.TrimPrefix(cmd.CommandPath(), "actord ")}, cmd.Flags().Args()...), " "), fn(ctx, topics.NewAdmin(cl)))
	})
}

// closedUnanswered replaces the client's guess for a connection the broker
// closed at its first request ("is SASL missing?") with what the broker
// says when asked. The client makes that guess only when kafka.sasl is not
// set and a connection is closed before any response to a request after
// ApiVersions; a broker also does that when it refuses a request outright
// (Kafka past socket.request.max.bytes) or dies of it. So the broker is
// asked, on a new connection, to begin a SASL PLAIN exchange: a listener
// that requires SASL begins it or names its mechanisms (then SASL is the
// cause, and the hint stays); one without SASL answers ILLEGAL_SASL_STATE
// (then SASL is not the cause, and the error says the request was not
// answered). When the broker cannot be asked, neither is claimed.
func closedUnanswered(ctx context.Context, cl *kgo.Client, what string, err error) error {
	var first *kgo.ErrFirstReadEOF
	if !errors.As(err, &first) {
		return err
	}
	probeCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Mechanism = "PLAIN"
	resp, perr := req.RequestWith(probeCtx, cl)
	switch {
	case perr != nil:
		return &closedError{err: err, msg: fmt.Sprintf("%s: the broker closed the connection without answering, and did not answer whether it requires SASL either (%v): is it still running? its log may say why", what, perr)}
	case resp.ErrorCode == 0 || len(resp.SupportedMechanisms) > 0:
		mechs := ""
		if len(resp.SupportedMechanisms) > 0 {
			mechs = " (" + strings.Join(resp.SupportedMechanisms, ", ") + ")"
		}
		return &closedError{err: err, msg: fmt.Sprintf("%s: the broker closed the connection without answering: it requires SASL authentication%s and kafka.sasl is not set", what, mechs)}
	}
	return &closedError{err: err, msg: fmt.Sprintf("%s: the broker closed the connection without answering (it does not require SASL, so that is not the cause): it may refuse a request this large or have failed on it; its log may say why", what)}
}

// closedError is closedUnanswered's error; it unwraps to the client's.
type closedError struct {
	err error
	msg string
}

func (e *closedError) Error() string { return e.msg }
func (e *closedError) Unwrap() error { return e.err }

// printTopic writes one topic as a key/value block and a partition table.
func (a *app) printTopic(info topics.Info) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME:\t%s\n", info.Name)
	if info.ID != "" {
		fmt.Fprintf(tw, "ID:\t%s\n", info.ID)
	}
	fmt.Fprintf(tw, "PARTITIONS:\t%d\n", info.Partitions)
	fmt.Fprintf(tw, "REPLICATION FACTOR:\t%d\n", info.ReplicationFactor)
	label := "CONFIG:"
	for _, k := range slices.Sorted(maps.Keys(info.Config)) {
		fmt.Fprintf(tw, "%s\t%s=%s\n", label, k, info.Config[k])
		label = ""
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tLEADER\tREPLICAS\tISR")
	for _, p := range info.PartitionDetails {
		line := fmt.Sprintf("%d\t%d\t%s\t%s", p.ID, p.Leader, joinBrokerIDs(p.Replicas), joinBrokerIDs(p.ISR))
		if p.Error != "" {
			line += "\t" + p.Error
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func writeTopicsJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func joinBrokerIDs(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// parseTopicConfigs turns repeated --config key=value flags into a map.
// The value may itself contain '=' and ','.
func parseTopicConfigs(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--config %q: want key=value, e.g. --config retention.ms=86400000 (on 'topics create', --config sets a topic config)", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--config %s: given more than once", k)
		}
		out[k] = v
	}
	return out, nil
}

// oneTopicName accepts exactly one NAME argument.
func oneTopicName(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: want one topic NAME, got %d arguments (usage: %s)", cmd.CommandPath(), len(args), cmd.UseLine())
	}
	return nil
}

// partitionCount reads "1 partition", "3 partitions".
func partitionCount(n int32) string {
	if n == 1 {
		return "1 partition"
	}
	return fmt.Sprintf("%d partitions", n)
}
