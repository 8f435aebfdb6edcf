package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TEMPORARY placeholder, replaced in this session.
func (a *app) consumeCmd() *cobra.Command {
	return &cobra.Command{Use: "consume", RunE: func(*cobra.Command, []string) error { return errors.New("consume: not built yet") }}
}
