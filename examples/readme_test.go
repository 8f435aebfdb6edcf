// Package examples_test proves that README.md's Go code compiles against
// the current API, and that its complete test files (Testing your
// service) pass. The runnable examples live in the directories beside
// this file, each with its own smoke test.
package examples_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// snippetImports are the packages a README block may use without importing
// them: each generated file imports them all and references each once, so
// a block that leaves some unused still compiles.
var snippetImports = []struct{ path, use string }{
	{"context", "context.Background"},
	{"errors", "errors.New"},
	{"fmt", "fmt.Sprint"},
	{"log", "log.Fatal"},
	{"log/slog", "slog.Info"},
	{"net/http", "http.StatusOK"},
	{"os", "os.Exit"},
	{"strconv", "strconv.Itoa"},
	{"sync", "sync.NewCond"},
	{"sync/atomic", "atomic.AddInt64"},
	{"time", "time.Second"},
	{"github.com/asynkron/protoactor-go/actor", "actor.PropsFromProducer"},
	{"github.com/twmb/franz-go/pkg/kgo", "kgo.NewClient"},
	{"github.com/actord/actord/actors", "actors.New"},
	{"github.com/actord/actord/broker", "broker.Start"},
	{"github.com/actord/actord/dlq", "dlq.Parse"},
	{"github.com/actord/actord/schema", "schema.Parse"},
	{"github.com/actord/actord/supervisor", "supervisor.DefaultPolicy"},
	{"github.com/actord/actord/topics", "topics.ValidateName"},
}

// snippetDecls are the identifiers README blocks assume, as a service
// around them would declare them. A block that declares one of these names
// at top level gets its own instead.
var snippetDecls = map[string]string{
	"ctx": `var ctx = context.Background()`,
	"rt":  `var rt *actors.Runtime`,
	// A service's own franz-go client.
	"cl": `var cl *kgo.Client`,
	// Two services' runtimes (Multi-service).
	"rtA": `var rtA *actors.Runtime`,
	"rtB": `var rtB *actors.Runtime`,
	"OrderCreated": "type OrderCreated struct {\n" +
		"\tEvent   string  `json:\"event\"`\n" +
		"\tOrderID int     `json:\"order_id\"`\n" +
		"\tUserID  int     `json:\"user_id\"`\n" +
		"\tTotal   float64 `json:\"total\"`\n" +
		"}",
	"UserRegistered": "type UserRegistered struct {\n" +
		"\tUserID int    `json:\"user_id\"`\n" +
		"\tEmail  string `json:\"email\"`\n" +
		"}",
	"ErrTemporary":          `var ErrTemporary = errors.New("temporary")`,
	"ErrPermanent":          `var ErrPermanent = errors.New("permanent")`,
	"sendNotification":      `func sendNotification(ctx context.Context, userID int, text string) error { return nil }`,
	"sendWelcomeEmail":      `func sendWelcomeEmail(ctx context.Context, email string) error { return nil }`,
	"createDefaultSettings": `func createDefaultSettings(ctx context.Context, userID int) error { return nil }`,
	"markPaid":              `func markPaid(ctx context.Context, orderID int) error { return nil }`,
	"doProcessing":          `func doProcessing(ctx context.Context, o OrderCreated) error { return nil }`,
}

// preambleImports are what snippetDecls need.
const preambleImports = `import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/actord/actord/actors"
)
`

type block struct {
	line int // README line of the block's first code line
	code string
}

// goBlocks returns the ```go fenced blocks of a Markdown file.
func goBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []block
		cur    *block
		lines  []string
		n      int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		l := sc.Text()
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && trimmed == "```go":
			cur, lines = &block{line: n + 1}, nil
		case cur != nil && trimmed == "```":
			cur.code = strings.Join(lines, "\n")
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated ```go block", path, cur.line-1)
	}
	return blocks
}

// TestReadmeCompiles type-checks and vets every ```go block of README.md.
// A block is either a complete Go file (it starts with a package clause:
// Testing your service's test), top-level declarations, or the body of a
// function returning error (type declarations may be mixed in); the
// identifiers a block assumes (ctx, rt, OrderCreated, sendNotification...)
// are declared around it (snippetDecls), and variables it declares but
// does not use are used for it. Errors point at README.md lines.
func TestReadmeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every README block")
	}
	s := readmeSnippets(t)
	cmd := exec.Command("go", append([]string{"vet", "-overlay", s.overlay}, s.pkgs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README.md Go blocks do not compile (go vet): %v\n%s", err, out)
	}
	t.Logf("%d README.md Go blocks compile", len(s.pkgs))
}

// TestReadmeTestsPass runs the README blocks that are complete test files
// (the Testing your service section) with go test: the test the README
// shows passes against the current library.
func TestReadmeTestsPass(t *testing.T) {
	if testing.Short() {
		t.Skip("runs README's test files")
	}
	s := readmeSnippets(t)
	if len(s.testPkgs) == 0 {
		t.Fatal("README.md has no complete test file (a ```go block starting with a package clause)")
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-overlay", s.overlay}, s.testPkgs...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README.md's test files fail (go test): %v\n%s", err, out)
	}
	t.Logf("README.md's test files pass:\n%s", out)
}

// snippets are README's Go blocks as packages of the module, their
// sources in an overlay file.
type snippets struct {
	overlay  string   // the -overlay file
	pkgs     []string // every block's package
	testPkgs []string // the packages of complete test files
}

// readmeSnippets writes every Go block of README.md as its own package.
// The packages must be inside the module, so that its packages and go.sum
// resolve, but no file is written there: the sources live in a temporary
// directory and reach the go command through -overlay. Only empty
// directories (which the go command needs to exist, and which git, gofmt
// and ./... patterns ignore) are made in the module, and removed after.
func readmeSnippets(t *testing.T) snippets {
	t.Helper()
	readme, err := filepath.Abs(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(t, readme)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go blocks")
	}
	root, err := os.MkdirTemp(".", ".readmecheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	srcDir := t.TempDir()
	overlay := map[string]string{}
	var s snippets
	for i, b := range blocks {
		name := fmt.Sprintf("block%02d", i+1)
		if err := os.Mkdir(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		pkg := "./" + filepath.ToSlash(filepath.Join(root, name))
		files := map[string]string{}
		if isFile(b) {
			// A complete file, a test: as written, README lines kept.
			files["readme_test.go"] = fmt.Sprintf("//line %s:%d\n", readme, b.line) + b.code + "\n"
			s.testPkgs = append(s.testPkgs, pkg)
		} else {
			src, declared, err := snippetFile(readme, b)
			if err != nil {
				t.Errorf("%s:%d: block %d is neither a Go file, declarations nor statements: %v", readme, b.line, i+1, err)
				continue
			}
			files["block.go"], files["preamble.go"] = src, preamble(declared)
		}
		for file, content := range files {
			tmp := filepath.Join(srcDir, name+"_"+file)
			write(t, tmp, content)
			overlay[filepath.Join(absRoot, name, file)] = tmp
		}
		s.pkgs = append(s.pkgs, pkg)
	}
	if t.Failed() {
		t.FailNow()
	}
	ov, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	s.overlay = filepath.Join(srcDir, "overlay.json")
	write(t, s.overlay, string(ov))
	return s
}

// isFile reports whether b is a complete Go file: its first line that is
// neither blank nor a comment is a package clause.
func isFile(b block) bool {
	for _, l := range strings.Split(b.code, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		return strings.HasPrefix(l, "package ")
	}
	return false
}

// snippetFile wraps b as a Go file of package snippet, and returns the
// top-level names it declares.
func snippetFile(readme string, b block) (string, map[string]bool, error) {
	var head strings.Builder
	head.WriteString("package snippet\n\nimport (\n")
	for _, imp := range snippetImports {
		fmt.Fprintf(&head, "\t%q\n", imp.path)
	}
	head.WriteString(")\n\n")
	for _, imp := range snippetImports {
		fmt.Fprintf(&head, "var _ = %s\n", imp.use)
	}
	head.WriteString("\n")
	lineDirective := fmt.Sprintf("//line %s:%d\n", readme, b.line)

	// Top-level declarations?
	file := head.String() + lineDirective + b.code + "\n"
	if f, err := parser.ParseFile(token.NewFileSet(), "", file, parser.SkipObjectResolution); err == nil {
		declared := map[string]bool{}
		for _, d := range f.Decls {
			for _, name := range declNames(d) {
				declared[name] = true
			}
		}
		return file, declared, nil
	}

	// A function body: declared-but-unused variables are used for it, and
	// it returns nil unless it ends with a return.
	open := head.String() + "func _() error {\n" + lineDirective
	body := open + b.code + "\n}\n"
	f, err := parser.ParseFile(token.NewFileSet(), "", body, parser.SkipObjectResolution)
	if err != nil {
		return "", nil, err
	}
	fn := f.Decls[len(f.Decls)-1].(*ast.FuncDecl)
	var names []string
	endsWithReturn := false
	for _, s := range fn.Body.List {
		endsWithReturn = false
		switch s := s.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE {
				for _, e := range s.Lhs {
					if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
						names = append(names, id.Name)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := s.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				names = append(names, declNames(g)...)
			}
		case *ast.ReturnStmt:
			endsWithReturn = true
		}
	}
	// Guards after a final return would be unreachable: a block that ends
	// with one must use what it declares.
	var tail strings.Builder
	tail.WriteString("\n//line generated:1\n")
	if !endsWithReturn {
		sort.Strings(names)
		seen := map[string]bool{}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				fmt.Fprintf(&tail, "\t_ = %s\n", n)
			}
		}
		tail.WriteString("\treturn nil\n")
	}
	return open + b.code + tail.String() + "}\n", map[string]bool{}, nil
}

func declNames(d ast.Decl) []string {
	var out []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			out = append(out, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					out = append(out, n.Name)
				}
			}
		}
	}
	return out
}

// preamble declares the identifiers README blocks assume, except those
// the block declares itself at top level.
func preamble(declared map[string]bool) string {
	var b strings.Builder
	b.WriteString("package snippet\n\n" + preambleImports + "\n")
	b.WriteString("var (\n\t_ = context.Background\n\t_ = errors.New\n\t_ = actors.New\n)\n\n")
	names := make([]string, 0, len(snippetDecls))
	for n := range snippetDecls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !declared[n] {
			b.WriteString(snippetDecls[n] + "\n\n")
		}
	}
	return b.String()
}

func write(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
