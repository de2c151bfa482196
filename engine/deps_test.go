package engine_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestImportGraph keeps the house's dependency arrows true:
//
//	cmd/posd ──► api ──► engine ◄── engine/boltstore (the only importer of bbolt)
//	backup ──► engine; install has no business logic; cmd/internal/shopca
//	(the shop CA) is the standard library only.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{join .Imports \",\"}}", "posd/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	imports := map[string][]string{}
	standard := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
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
			case strings.HasPrefix(pkg, "posd/api") && imp == "posd/engine/boltstore":
				t.Errorf("%s imports boltstore; api knows only engine", pkg)
			case strings.HasPrefix(pkg, "posd/backup") && (imp == "posd/engine/boltstore" || imp == "posd/api"):
				t.Errorf("backup imports %s; it goes through its own interface", imp)
			case strings.HasPrefix(pkg, "posd/install") && (strings.HasPrefix(imp, "posd/engine") || strings.HasPrefix(imp, "posd/api")):
				t.Errorf("install imports %s; it holds no business logic", imp)
			case pkg == "posd/cmd/internal/shopca" && !standard[imp] && imp != "golang.org/x/sys/windows":
				t.Errorf("shopca imports %s; the shop CA is crypto/x509 and the file system only", imp)
			case strings.HasPrefix(pkg, "posd/engine") && (strings.HasPrefix(imp, "posd/api") || strings.HasPrefix(imp, "posd/cmd")):
				t.Errorf("%s imports %s; the arrows point into engine", pkg, imp)
			}
		}
	}
	if len(imports["posd/engine"]) == 0 {
		t.Fatal("go list did not report posd/engine's imports")
	}
}
