package main

import (
	"os/exec"
	"strings"
	"testing"
)

// What a library user ships: a publish-only service links neither the
// embedded broker (kfake) nor the daemon's config loader (viper), nor the
// project's broker and config packages. (`go list -deps` of this very
// package, so the check follows the code; README, Producer, gives the
// binary's size.)
func TestProducerLinksNoBrokerOrConfig(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool: %v", err)
	}
	for _, pkg := range []string{"github.com/actord/actord/actors", "github.com/actord/actord/examples/producer"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch dep {
			case "github.com/twmb/franz-go/pkg/kfake", "github.com/spf13/viper",
				"github.com/actord/actord/broker", "github.com/actord/actord/config":
				t.Errorf("%s links %s", pkg, dep)
			}
			// Tracing is an API dependency only: the service brings its own
			// SDK and exporter (the daemon's OTLP exporter is its own).
			if strings.HasPrefix(dep, "go.opentelemetry.io/otel/sdk/trace") || strings.HasPrefix(dep, "go.opentelemetry.io/otel/exporters/otlp") {
				t.Errorf("%s links %s", pkg, dep)
			}
			// The status console's browser tests drive Chromium with
			// chromedp; only tests link it.
			if strings.HasPrefix(dep, "github.com/chromedp/") || dep == "github.com/actord/actord/internal/browsertest" {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}
