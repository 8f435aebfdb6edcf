package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// TEMPORARY placeholder, replaced in this session.
func (a *app) topicsCmd() *cobra.Command {
	return &cobra.Command{Use: "topics", RunE: func(*cobra.Command, []string) error { return errors.New("topics: not built yet") }}
}
