package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TEMPORARY placeholder, replaced in this session.
func (a *app) brokerCmd() *cobra.Command {
	return &cobra.Command{Use: "broker", RunE: func(*cobra.Command, []string) error { return errors.New("broker: not built yet") }}
}
