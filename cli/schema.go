package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/spf13/cobra"

	"github.com/actord/actord/schema"
)

// schemaCmd is `actord schema`: Avro schema tools.
func (a *app) schemaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Avro schema tools and the Schema Registry",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.schemaCheckCmd(), a.schemaRegisterCmd(), a.schemaListCmd(), a.schemaGetCmd())
	return cmd
}

// schemaCheckCmd is `actord schema check OLD.avsc NEW.avsc [--mode M]`:
// exit 0 printing "compatible (M)", or exit 1 with one reason per line on
// stdout and a one-line summary on stderr.
func (a *app) schemaCheckCmd() *cobra.Command {
	var mode, subject string
	cmd := &cobra.Command{
		Use:   "check OLD.avsc NEW.avsc | check NEW.avsc --subject SUBJECT",
		Short: "check that a new version of an Avro schema is compatible with the old one",
		Long: `Check that NEW.avsc can replace OLD.avsc under a compatibility mode:

  backward  consumers with the new schema read data written with the old
            (upgrade consumers first); the default
  forward   consumers with the old schema read data written with the new
            (upgrade producers first)
  full      both

With --subject, NEW.avsc is checked by the Schema Registry (--registry or
schema_registry.url) against the subject's latest version, under the
subject's own compatibility level: what registering it would meet.

Exits 0 printing "compatible (MODE)", or 1 printing each reason, naming the
field, on its own line.`,
		Example: `  actord schema check order-v1.avsc order-v2.avsc --mode full
  actord schema check order-v2.avsc --subject orders-value --registry http://127.0.0.1:8081`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if subject != "" || len(args) == 1 {
				if subject == "" || len(args) != 1 {
					return errors.New("want OLD.avsc NEW.avsc, or NEW.avsc --subject SUBJECT")
				}
				if cmd.Flags().Changed("mode") {
					return errors.New("--mode with --subject: the registry checks with the subject's own level")
				}
				return a.checkAgainstRegistry(cmd, args[0], subject)
			}
			if cmd.Flags().Changed("registry") {
				return errors.New("--registry needs --subject: OLD.avsc NEW.avsc are checked locally")
			}
			m, err := schema.ParseMode(mode)
			if err != nil {
				return fmt.Errorf("--mode: %w", err)
			}
			old, err := schema.Load(args[0])
			if err != nil {
				return err
			}
			next, err := schema.Load(args[1])
			if err != nil {
				return err
			}
			reasons := schema.Compatible(old, next, m)
			if len(reasons) == 0 {
				fmt.Fprintf(a.stdout, "compatible (%s)\n", m)
				return nil
			}
			for _, r := range reasons {
				fmt.Fprintln(a.stdout, r)
			}
			noun := "reasons"
			if len(reasons) == 1 {
				noun = "reason"
			}
			return &exitError{code: 1, msg: fmt.Sprintf("%s is not %s compatible with %s (%d %s)", args[1], m, args[0], len(reasons), noun)}
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "backward", "compatibility mode: backward, forward or full")
	cmd.Flags().StringVar(&subject, "subject", "", "check against this registry subject's latest version instead of OLD.avsc")
	registryFlag(cmd)
	return cmd
}

// checkAgainstRegistry is `actord schema check NEW.avsc --subject S`.
func (a *app) checkAgainstRegistry(cmd *cobra.Command, file, subject string) error {
	next, err := schema.Load(file)
	if err != nil {
		return err
	}
	cl, err := a.registryClient(cmd, true)
	if err != nil {
		return err
	}
	ctx, cancel := registryCtx(cmd.Context(), cl)
	defer cancel()
	level := "the registry's level"
	var lv []sr.CompatibilityResult
	if err := cl.Do(ctx, "compatibility level of subject "+strconv.Quote(subject), func(ctx context.Context) error {
		lv = cl.SR().Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subject)
		return lv[0].Err
	}); err == nil {
		level = lv[0].Level.String()
	}
	var res sr.CheckCompatibilityResult
	op := "check against subject " + strconv.Quote(subject)
	err = cl.Do(ctx, op, func(ctx context.Context) error {
		var err error
		res, err = cl.SR().CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, -1, sr.Schema{Schema: next.String(), Type: sr.TypeAvro})
		return err
	})
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) && re.StatusCode == 404 {
			fmt.Fprintf(a.stdout, "compatible (subject %s has no version yet: the first registration sets it)\n", subject)
			return nil
		}
		return cl.Explain(op, subject, err)
	}
	if res.Is {
		fmt.Fprintf(a.stdout, "compatible (%s, with the latest version of %s)\n", level, subject)
		return nil
	}
	for _, m := range res.Messages {
		fmt.Fprintln(a.stdout, m)
	}
	return &exitError{code: 1, msg: fmt.Sprintf("%s is not %s compatible with subject %s (%d %s)", file, level, subject, len(res.Messages), plural(len(res.Messages), "reason"))}
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// schemaRegisterCmd is `actord schema register SUBJECT FILE.avsc`.
func (a *app) schemaRegisterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "register SUBJECT FILE.avsc",
		Short: "register an Avro schema under a Schema Registry subject",
		Long: `Register FILE.avsc under SUBJECT in the Schema Registry (--registry or
schema_registry.url) and print its id and version. A schema registered
before keeps its id and version. The registry checks the schema against
the subject's versions under its compatibility level: an incompatible
schema is refused (exit 1) with the registry's reason, naming the field.`,
		Example: `  actord schema register orders-value order.avsc --registry http://127.0.0.1:8081`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			subject := args[0]
			s, err := schema.Load(args[1])
			if err != nil {
				return err
			}
			cl, err := a.registryClient(cmd, true)
			if err != nil {
				return err
			}
			ctx, cancel := registryCtx(cmd.Context(), cl)
			defer cancel()
			op := "register subject " + strconv.Quote(subject)
			var ss sr.SubjectSchema
			if err := cl.Do(ctx, op, func(ctx context.Context) error {
				var err error
				ss, err = cl.SR().CreateSchema(ctx, subject, sr.Schema{Schema: s.String(), Type: sr.TypeAvro})
				return err
			}); err != nil {
				return cl.Explain(op, subject, err)
			}
			fmt.Fprintf(a.stdout, "registered %s as %s version %d, id %d\n", s.Name(), subject, ss.Version, ss.ID)
			return nil
		},
	}
	registryFlag(cmd)
	return cmd
}

// subjectRow is one line of `actord schema list`.
type subjectRow struct {
	Subject  string `json:"subject"`
	Versions []int  `json:"versions"`
	Latest   int    `json:"latest_version"`
	ID       int    `json:"latest_id"`
}

// schemaListCmd is `actord schema list`.
func (a *app) schemaListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list the Schema Registry's subjects with their versions",
		Long: `List the subjects of the Schema Registry (--registry or schema_registry.url),
each with its versions and the id of the latest; -o json prints one JSON
array.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			cl, err := a.registryClient(cmd, true)
			if err != nil {
				return err
			}
			ctx, cancel := registryCtx(cmd.Context(), cl)
			defer cancel()
			var all []sr.SubjectSchema
			if err := cl.Do(ctx, "list schemas", func(ctx context.Context) error {
				var err error
				all, err = cl.SR().AllSchemas(ctx)
				return err
			}); err != nil {
				return cl.Explain("list schemas", "", err)
			}
			rows := []subjectRow{}
			at := map[string]int{}
			for _, ss := range all {
				i, ok := at[ss.Subject]
				if !ok {
					i = len(rows)
					at[ss.Subject] = i
					rows = append(rows, subjectRow{Subject: ss.Subject})
				}
				r := &rows[i]
				r.Versions = append(r.Versions, ss.Version)
				if ss.Version > r.Latest {
					r.Latest, r.ID = ss.Version, ss.ID
				}
			}
			if a.output == "json" {
				enc := json.NewEncoder(a.stdout)
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SUBJECT\tVERSIONS\tLATEST\tID")
			for _, r := range rows {
				vs := make([]string, len(r.Versions))
				for i, v := range r.Versions {
					vs[i] = strconv.Itoa(v)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", r.Subject, strings.Join(vs, ","), r.Latest, r.ID)
			}
			return tw.Flush()
		},
	}
	registryFlag(cmd)
	return cmd
}

// schemaGetCmd is `actord schema get SUBJECT [--version N|latest]`.
func (a *app) schemaGetCmd() *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "get SUBJECT",
		Short: "print a version of a Schema Registry subject's schema",
		Long: `Print the schema of SUBJECT's --version (a number, or latest, the default)
from the Schema Registry (--registry or schema_registry.url): its JSON
text, which 'actord produce --schema' and 'schema register' read; with -o
json, one object with subject, version, id and schema.`,
		Example: `  actord schema get orders-value --version 1 > order-v1.avsc`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			v := -1
			if version != "latest" {
				n, err := strconv.Atoi(version)
				if err != nil || n < 1 {
					return fmt.Errorf("--version %q: want a version number (1 or more) or latest", version)
				}
				v = n
			}
			cl, err := a.registryClient(cmd, true)
			if err != nil {
				return err
			}
			ctx, cancel := registryCtx(cmd.Context(), cl)
			defer cancel()
			subject := args[0]
			op := fmt.Sprintf("version %s of subject %q", version, subject)
			var ss sr.SubjectSchema
			if err := cl.Do(ctx, op, func(ctx context.Context) error {
				var err error
				ss, err = cl.SR().SchemaByVersion(ctx, subject, v)
				return err
			}); err != nil {
				var re *sr.ResponseError
				if errors.As(err, &re) && re.StatusCode == 404 {
					if re.ErrorCode == 40401 { // subject not found
						return fmt.Errorf("schema registry: no subject %q (see actord schema list)", subject)
					}
					return fmt.Errorf("schema registry: subject %q has no version %s", subject, version)
				}
				return cl.Explain(op, subject, err)
			}
			if a.output == "json" {
				return json.NewEncoder(a.stdout).Encode(map[string]any{"subject": ss.Subject, "version": ss.Version, "id": ss.ID, "schema": ss.Schema.Schema})
			}
			fmt.Fprintln(a.stdout, ss.Schema.Schema)
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "latest", "version `N` (1 or more) or latest")
	registryFlag(cmd)
	return cmd
}
