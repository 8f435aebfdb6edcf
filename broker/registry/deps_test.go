package registry_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The embedded registry is the daemon's and the tests': a library user's
// runtime links the registry client (schema, franz-go's pkg/sr) but
// neither this package nor srfake.
func TestActorsLinksNoEmbeddedRegistry(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/actord/actord/actors").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		if d == "github.com/actord/actord/broker/registry" || d == "github.com/twmb/franz-go/pkg/sr/srfake" {
			t.Errorf("actors links %s", d)
		}
	}
}
