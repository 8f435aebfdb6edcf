package shop

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/actord/actord/actors"
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
