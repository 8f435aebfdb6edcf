package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TEMPORARY placeholder, replaced in this session.
func (a *app) produceCmd() *cobra.Command {
	return &cobra.Command{Use: "produce", RunE: func(*cobra.Command, []string) error { return errors.New("produce: not built yet") }}
}
