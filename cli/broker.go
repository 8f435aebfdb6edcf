package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/actord/actord/broker"
)

// brokerCmd is `actord broker`: the embedded Kafka-protocol broker as a
// foreground process, for trying actord and for tests with nothing else
// installed.
func (a *app) brokerCmd() *cobra.Command {
	var listen, dataDir string
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "run the embedded Kafka-protocol broker until SIGINT or SIGTERM",
		Long: `Run the embedded Kafka-protocol broker (one node) in the foreground.

It prints "broker listening on ADDR" once it accepts connections (with
--listen HOST:0, ADDR carries the port chosen) and runs until SIGINT or
SIGTERM. With --data-dir, topics, records and committed offsets survive a
restart; without it everything is kept in memory and lost at exit.

Config keys: broker.listen, broker.data_dir, broker.auto_create_topics,
broker.default_partitions (the flags win over the config file).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("listen") {
				a.flagKeys["broker.listen"] = listen
			}
			if cmd.Flags().Changed("data-dir") {
				a.flagKeys["broker.data_dir"] = dataDir
			}
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			b, err := broker.Start(broker.Config{
				Listen:            cfg.Broker.Listen,
				DataDir:           cfg.Broker.DataDir,
				AutoCreateTopics:  cfg.Broker.AutoCreateTopics,
				DefaultPartitions: cfg.Broker.DefaultPartitions,
			})
			if err != nil {
				return err
			}
			// Close persists the data dir: it must run on every way out.
			defer b.Close()
			fmt.Fprintf(a.stdout, "broker listening on %s\n", b.Addr())
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "host:port to accept connections on; port 0 picks a free one (broker.listen)")
	f.StringVar(&dataDir, "data-dir", "", "directory that keeps topics, records and offsets across restarts; empty keeps them in memory (broker.data_dir)")
	return cmd
}
