package actors

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// quietHandler lowers protoactor's informational chatter (actor started,
// recovering) to debug, keeping its warnings and errors.
type quietHandler struct{ h slog.Handler }

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if l < slog.LevelWarn {
		l = slog.LevelDebug
	}
	return q.h.Enabled(ctx, l)
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		r.Level = slog.LevelDebug
	}
	return q.h.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler { return quietHandler{q.h.WithAttrs(as)} }
func (q quietHandler) WithGroup(n string) slog.Handler       { return quietHandler{q.h.WithGroup(n)} }

// kafkaLogger routes franz-go's logs of the client in role into the
// runtime's logger (franz-go's plugin/kslog), as component kafka: its
// warnings and errors (a broker that cannot be reached, a failed
// metadata load) at their level, its informational lines (connections,
// joins, assignments, which the runtime logs in its own words) at debug,
// so that a healthy client says nothing unless log.level is debug.
func kafkaLogger(log *slog.Logger, role string) kgo.Logger {
	return kslog.New(slog.New(quietHandler{log.Handler()}).With("component", "kafka", "client", role))
}
