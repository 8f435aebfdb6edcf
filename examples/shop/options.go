package shop

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/broker"
)

// RuntimeOptions are what every example service passes to actors.New: the
// cluster at brokers (host:port, comma-separated), the service's name (it
// names the Kafka client and the event router's group; empty keeps
// actors.DefaultServiceName) and its logger. Metrics are not served: an
// example that wants them adds actors.ServeMetrics.
func RuntimeOptions(service, brokers string, log *slog.Logger) []actors.RuntimeOption {
	opts := []actors.RuntimeOption{actors.Brokers(brokers), actors.WithLogger(log)}
	if service != "" {
		opts = append(opts, actors.ServiceName(service))
	}
	return opts
}

// Cluster is the cluster an example runs on: brokers when given, else an
// embedded broker it starts on a free loopback port (embedded is then
// true). stop closes what Cluster started; call it after the runtime has
// stopped.
func Cluster(brokers string) (addr string, embedded bool, stop func(), err error) {
	if brokers != "" {
		return brokers, false, func() {}, nil
	}
	b, err := broker.Start(broker.Config{Listen: "127.0.0.1:0", AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		return "", false, nil, err
	}
	return b.Addr(), true, b.Close, nil
}

// EndOffset is the number of records topic holds (-1 when unknown), what
// an example waits for before it reads a topic back.
func EndOffset(ctx context.Context, adm *kadm.Client, topic string) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lo, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return -1
	}
	var n int64
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}
