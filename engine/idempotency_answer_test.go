package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
)

// TestNewAnswerEveryKind: every DocKind declared in store.go has a document
// to decode its kept answers into, with the business set where the type
// has one (every store decodes answers through NewAnswer, so a kind added
// without one would make its replays fail as corrupt).
func TestNewAnswerEveryKind(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "store.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []DocKind
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "DocKind" {
				continue
			}
			for _, val := range v.Values {
				if lit, ok := val.(*ast.BasicLit); ok {
					kinds = append(kinds, DocKind(lit.Value[1:len(lit.Value)-1]))
				}
			}
		}
	}
	if len(kinds) < 15 {
		t.Fatalf("found %d kinds in store.go: %v", len(kinds), kinds)
	}
	for _, k := range kinds {
		doc, ok := NewAnswer(k, "biz")
		if !ok || doc == nil || reflect.TypeOf(doc).Kind() != reflect.Pointer {
			t.Errorf("%s: NewAnswer gives %T, %v", k, doc, ok)
			continue
		}
		if f := reflect.ValueOf(doc).Elem().FieldByName("BusinessID"); f.IsValid() && f.String() != "biz" {
			if tag, _ := reflect.TypeOf(doc).Elem().FieldByName("BusinessID"); tag.Tag.Get("json") == "-" {
				t.Errorf("%s: %T without its business", k, doc)
			}
		}
	}
	if _, ok := NewAnswer("nonsense", "biz"); ok {
		t.Error("NewAnswer made a document of an unknown kind")
	}
}
