package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/actord/actord/schema"
)

// schemaCmd is `actord schema`: Avro schema tools.
func (a *app) schemaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Avro schema tools",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.schemaCheckCmd())
	return cmd
}

// schemaCheckCmd is `actord schema check OLD.avsc NEW.avsc [--mode M]`:
// exit 0 printing "compatible (M)", or exit 1 with one reason per line on
// stdout and a one-line summary on stderr.
func (a *app) schemaCheckCmd() *cobra.Command {
	var mode string
	cmd := &cobra.Command{
		Use:   "check OLD.avsc NEW.avsc",
		Short: "check that a new version of an Avro schema is compatible with the old one",
		Long: `Check that NEW.avsc can replace OLD.avsc under a compatibility mode:

  backward  consumers with the new schema read data written with the old
            (upgrade consumers first); the default
  forward   consumers with the old schema read data written with the new
            (upgrade producers first)
  full      both

Exits 0 printing "compatible (MODE)", or 1 printing each reason, naming the
field, on its own line.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
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
	return cmd
}
