//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"posd/cmd/internal/posdproc"
)

// A Build is a way to build posd: build tags and, for a deliberately broken
// build, the patches that break it.
//
// A broken build leaves no trace in the product's source: the harness
// copies each file a patch names, replaces exact text in the copy, and
// builds posd with go build -overlay, which compiles the copies in place
// of the originals. A patch whose text is no longer in its file fails the
// build with a message that says so: the bug must then be written again
// against the code as it is, or TestSensitivity would test nothing.
type Build struct {
	Name    string // of a broken build; "" for posd as it is
	Tags    string // build tags, e.g. posd_crashpoints for the crash points
	Patches []Patch
}

// A Patch replaces Old, which must occur exactly once in File, with New.
// With Old empty it adds File, which must not exist, holding New.
type Patch struct {
	File     string // slash-separated, from the module root
	Old, New string
}

func (b Build) String() string {
	s := b.Name
	if s == "" {
		s = "posd"
	}
	if b.Tags != "" {
		s += " -tags " + b.Tags
	}
	return s
}

// fileName is a name for the binary, unique per build.
func (b Build) fileName() string {
	name := "posd"
	for _, part := range []string{b.Name, b.Tags} {
		if part != "" {
			name += "-" + strings.NewReplacer(",", "-", " ", "-").Replace(part)
		}
	}
	return name
}

// compile builds posd into out: with the patches applied to copies in
// scratch, through an overlay.
func (b Build) compile(out, scratch string) error {
	var flags []string
	if b.Tags != "" {
		flags = append(flags, "-tags", b.Tags)
	}
	if len(b.Patches) > 0 {
		root, err := posdproc.ModuleRoot()
		if err != nil {
			return err
		}
		overlay, err := b.overlay(root, scratch)
		if err != nil {
			return err
		}
		flags = append(flags, "-overlay", overlay)
	}
	return posdproc.Build(out, flags...)
}

// overlay applies the patches to copies of their files in dir, writes the
// go build -overlay file that puts the copies in place of the files of the
// module at root, and returns its path.
func (b Build) overlay(root, dir string) (string, error) {
	texts := map[string]string{} // by absolute path, patched so far
	var order []string
	for i, p := range b.Patches {
		path := filepath.Join(root, filepath.FromSlash(p.File))
		text, seen := texts[path]
		if !seen {
			orig, err := os.ReadFile(path)
			switch {
			case p.Old == "" && err == nil:
				return "", fmt.Errorf("broken build %q, patch %d: it adds %s, which exists", b.Name, i+1, p.File)
			case p.Old != "" && err != nil:
				return "", fmt.Errorf("broken build %q, patch %d: %v", b.Name, i+1, err)
			}
			text = string(orig)
			order = append(order, path)
		}
		if p.Old == "" {
			text = p.New
		} else if n := strings.Count(text, p.Old); n != 1 {
			return "", fmt.Errorf("broken build %q, patch %d: the text it replaces is in %s %d times, not once; write the patch again against the code as it is now:\n%s",
				b.Name, i+1, p.File, n, p.Old)
		} else {
			text = strings.Replace(text, p.Old, p.New, 1)
		}
		texts[path] = text
	}
	replace := map[string]string{}
	for i, path := range order {
		cp := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(path)))
		if err := os.WriteFile(cp, []byte(texts[path]), 0o600); err != nil {
			return "", err
		}
		replace[path] = cp
	}
	j, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, b.fileName()+"-overlay.json")
	return overlay, os.WriteFile(overlay, j, 0o600)
}
