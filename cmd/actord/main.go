// Command actord is the actord daemon and command line: it runs the
// consumers declared in config (`actord start`), manages topics, produces
// and consumes records, and runs an embedded Kafka-protocol broker.
package main

import (
	"os"

	"github.com/actord/actord/cli"
)

func main() {
	os.Exit(cli.MainBinary(os.Args[1:]))
}
