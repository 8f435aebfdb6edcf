package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/actord/actord/broker"
	"github.com/actord/actord/internal/fromconfig"
)

// brokerCmd is `actord broker`: the embedded Kafka-protocol broker as a
// foreground process, for trying actord and for tests with nothing else
// installed.
func (a *app) brokerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "run the embedded Kafka-protocol broker until SIGINT or SIGTERM",
		Long: `Run the embedded Kafka-protocol broker (one node) in the foreground.

It prints "broker listening on ADDR" once it accepts connections (with
--listen HOST:0, ADDR carries the port chosen) and runs until SIGINT or
SIGTERM. With --data-dir, topics, records and committed offsets survive a
restart; without it everything is kept in memory and lost at exit.

With --sasl-mechanism, every client must authenticate as --sasl-user; a
wrong password is answered SASL_AUTHENTICATION_FAILED. The password comes
from --sasl-password-file, or from the config key broker.sasl.password
(env ACTORD_BROKER_SASL_PASSWORD): there is no password flag, so that it
never shows in the process list. With --tls-cert and --tls-key, the broker
accepts TLS connections only; --tls-client-ca also requires a client
certificate signed by that CA (mutual TLS).

Config keys: broker.listen, broker.data_dir, broker.auto_create_topics,
broker.default_partitions, broker.sasl.mechanism, broker.sasl.user,
broker.sasl.password, broker.sasl.password_file, broker.tls.cert_file,
broker.tls.key_file, broker.tls.client_ca_file,
broker.schema_registry.listen (the flags win over the config file and the
environment).

With --schema-registry HOST:PORT it also serves a Confluent-compatible
Schema Registry there and prints "schema registry listening on URL". It
enforces each subject's compatibility level (BACKWARD by default; GET/PUT
/config) and refuses an incompatible schema with 409, naming the field;
with --data-dir its schemas, ids and levels survive a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A flag the user set wins over the file and the environment.
			for flag, key := range map[string]string{
				"listen":             "broker.listen",
				"data-dir":           "broker.data_dir",
				"sasl-mechanism":     "broker.sasl.mechanism",
				"sasl-user":          "broker.sasl.user",
				"sasl-password-file": "broker.sasl.password_file",
				"tls-cert":           "broker.tls.cert_file",
				"tls-key":            "broker.tls.key_file",
				"tls-client-ca":      "broker.tls.client_ca_file",
				"schema-registry":    "broker.schema_registry.listen",
			} {
				if cmd.Flags().Changed(flag) {
					v, _ := cmd.Flags().GetString(flag)
					a.flagKeys[key] = v
				}
			}
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			b, err := fromconfig.StartBroker(cfg.Broker)
			if err != nil {
				return err
			}
			sec, _ := fromconfig.BrokerSecurity(cfg.Broker) // valid: StartBroker checked it
			// Close persists the data dir: it must run on every way out.
			defer b.Close()
			fmt.Fprintf(a.stdout, "broker listening on %s\n", b.Addr())
			if sec != (broker.Security{}) {
				fmt.Fprintf(a.stdout, "broker requires %s\n", sec)
			}
			reg, err := fromconfig.StartRegistry(cfg.Broker)
			if err != nil {
				return err
			}
			if reg != nil {
				defer reg.Close()
				fmt.Fprintf(a.stdout, "schema registry listening on %s\n", reg.URL())
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.String("listen", "127.0.0.1:9092", "host:port to accept connections on; port 0 picks a free one (broker.listen)")
	f.String("data-dir", "", "directory that keeps topics, records and offsets across restarts; empty keeps them in memory (broker.data_dir)")
	f.String("sasl-mechanism", "", "require SASL authentication with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (broker.sasl.mechanism)")
	f.String("sasl-user", "", "the user clients authenticate as (broker.sasl.user)")
	f.String("sasl-password-file", "", "file holding that user's password; or set ACTORD_BROKER_SASL_PASSWORD (broker.sasl.password_file)")
	f.String("tls-cert", "", "PEM certificate: accept TLS connections only (broker.tls.cert_file)")
	f.String("tls-key", "", "PEM private key of --tls-cert (broker.tls.key_file)")
	f.String("tls-client-ca", "", "PEM CA file: require client certificates signed by it, mutual TLS (broker.tls.client_ca_file)")
	f.String("schema-registry", "", "also serve a Schema Registry on `HOST:PORT`, such as 127.0.0.1:8081 (broker.schema_registry.listen)")
	return cmd
}
