package engine_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// goList runs go list with args and returns its output lines; it fails
// the test, never skips it, when go list cannot answer: a package that
// does not load is an error too.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// forbiddenInEngine are standard packages the domain must not reach, even
// through another package: it speaks no network or HTTP, opens no database
// and logs nothing (a library returns errors; its caller logs).
var forbiddenInEngine = []string{"net", "net/http", "database/sql", "log/slog"}

// TestEngineDeps: posd/engine depends, transitively, on the standard
// library only, and on none of forbiddenInEngine.
func TestEngineDeps(t *testing.T) {
	deps := goList(t, "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "posd/engine")
	if len(deps) < 2 {
		t.Fatalf("go list -deps posd/engine reported %d packages", len(deps))
	}
	seen := map[string]bool{}
	for _, l := range deps {
		pkg, std, _ := strings.Cut(l, " ")
		seen[pkg] = true
		if pkg != "posd/engine" && std != "true" {
			t.Errorf("engine depends on %s; it may depend on the standard library only", pkg)
		}
	}
	for _, f := range forbiddenInEngine {
		if seen[f] {
			t.Errorf("engine depends on %s, transitively", f)
		}
	}
	// The check can see what it forbids: api reaches net/http.
	apiDeps := map[string]bool{}
	for _, l := range goList(t, "-deps", "posd/api") {
		apiDeps[l] = true
	}
	if !apiDeps["net/http"] || !apiDeps["net"] || !apiDeps["log/slog"] {
		t.Error("go list -deps does not report posd/api's net, net/http and log/slog: this test could not see them in engine either")
	}
}

// TestImportGraph keeps the house's dependency arrows true:
//
//	cmd/posd ──► api ──► engine ◄── engine/boltstore (the only importer of bbolt)
//	                       ▲   ◄── engine/pgstore   (the only importer of pgx)
//	engine/pinhash is the only importer of golang.org/x/crypto (argon2id);
//	backup ──► engine; api/client ──► engine, never api; install has no
//	business logic; cmd/internal/shopca (the shop CA) is the standard
//	library only.
func TestImportGraph(t *testing.T) {
	imports := map[string][]string{}
	standard := map[string]bool{}
	for _, l := range goList(t, "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{join .Imports \",\"}}", "posd/...") {
		f := strings.SplitN(l, " ", 3)
		standard[f[0]] = f[1] == "true"
		if len(f) == 3 && f[2] != "" {
			imports[f[0]] = strings.Split(f[2], ",")
		}
	}
	for pkg, imps := range imports {
		if !strings.HasPrefix(pkg, "posd") {
			continue
		}
		for _, imp := range imps {
			switch {
			case pkg == "posd/engine" && !standard[imp]:
				t.Errorf("engine imports %s; it may import only the standard library", imp)
			case strings.HasPrefix(imp, "go.etcd.io/bbolt") && pkg != "posd/engine/boltstore":
				t.Errorf("%s imports bbolt; only engine/boltstore may", pkg)
			case strings.HasPrefix(imp, "github.com/jackc/pgx") && pkg != "posd/engine/pgstore":
				t.Errorf("%s imports pgx; only engine/pgstore may", pkg)
			case strings.HasPrefix(imp, "golang.org/x/crypto") && pkg != "posd/engine/pinhash":
				t.Errorf("%s imports %s; only engine/pinhash (the PIN hash) may", pkg, imp)
			case strings.HasPrefix(pkg, "posd/api") && (imp == "posd/engine/boltstore" || imp == "posd/engine/pgstore"):
				t.Errorf("%s imports %s; api knows only engine", pkg, imp)
			case pkg == "posd/api/client" && imp == "posd/api":
				t.Errorf("api/client imports api; a client of the HTTP API does not link the server")
			case strings.HasPrefix(pkg, "posd/backup") && (strings.HasPrefix(imp, "posd/engine/") || imp == "posd/api"):
				t.Errorf("backup imports %s; it goes through its own interface", imp)
			case strings.HasPrefix(pkg, "posd/install") && (strings.HasPrefix(imp, "posd/engine") || strings.HasPrefix(imp, "posd/api")):
				t.Errorf("install imports %s; it holds no business logic", imp)
			case pkg == "posd/cmd/internal/shopca" && !standard[imp] && imp != "golang.org/x/sys/windows":
				t.Errorf("shopca imports %s; the shop CA is crypto/x509 and the file system only", imp)
			case pkg == "posd/cmd/internal/shopca" && !standard[imp] && imp != "golang.org/x/sys/windows":
				t.Errorf("shopca imports %s; the shop CA is crypto/x509 and the file system only", imp)
			case strings.HasPrefix(pkg, "posd/engine") && (strings.HasPrefix(imp, "posd/api") || strings.HasPrefix(imp, "posd/cmd")):
				t.Errorf("%s imports %s; the arrows point into engine", pkg, imp)
			}
		}
	}
	for _, p := range []string{"posd/engine", "posd/engine/boltstore", "posd/api", "posd/api/client"} {
		if len(imports[p]) == 0 {
			t.Errorf("go list did not report %s's imports", p)
		}
	}
}
