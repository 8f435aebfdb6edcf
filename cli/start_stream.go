package cli

import (
	"fmt"

	"github.com/actord/actord/actors"
	"github.com/actord/actord/config"
	"github.com/actord/actord/handler"
	"github.com/actord/actord/internal/fromconfig"
)

// declareStream declares c, whose exec handler runs in stream mode: its
// handler actors are handler.NewStream's, each with a child of its own,
// under actors.ConsumeWith.
func (a *app) declareStream(rt *actors.Runtime, c config.Consumer) error {
	opts, err := fromconfig.ConsumerOptions(c)
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	props, err := handler.NewStream(c.Handler.Exec, rt.Logger())
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Source(), c.Group, err)
	}
	if c.TopicPattern != "" {
		return actors.ConsumePatternWith(rt, c.TopicPattern, c.Group, props, opts...)
	}
	return actors.ConsumeWith(rt, c.Topic, c.Group, props, opts...)
}
