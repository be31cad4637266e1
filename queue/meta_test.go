package queue

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// parsePackage parses the package's non-test files.
func parsePackage(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// queue may import only the standard library and the SQLite driver: it
// knows nothing of alipay, ecrproto or devices (DESIGN.md, layout).
func TestImportsStdlibAndDriverOnly(t *testing.T) {
	_, files := parsePackage(t)
	for _, f := range files {
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first := strings.SplitN(p, "/", 2)[0]
			if p != "github.com/mattn/go-sqlite3" && strings.Contains(first, ".") {
				t.Errorf("%s imports %s", f.Name.Name, p)
			}
		}
	}
}

// Every exported name has a doc comment, as does the package.
func TestExportedNamesDocumented(t *testing.T) {
	fset, files := parsePackage(t)
	pkgDoc := false
	for _, f := range files {
		pkgDoc = pkgDoc || f.Doc != nil
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && d.Doc == nil && exportedRecv(d) {
					t.Errorf("%s: %s undocumented", fset.Position(d.Pos()), d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					checkSpecDoc(t, fset, d, s)
				}
			}
		}
	}
	if !pkgDoc {
		t.Error("no package doc comment")
	}
}

func exportedRecv(d *ast.FuncDecl) bool {
	if d.Recv == nil {
		return true
	}
	typ := d.Recv.List[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

func checkSpecDoc(t *testing.T, fset *token.FileSet, d *ast.GenDecl, s ast.Spec) {
	t.Helper()
	switch s := s.(type) {
	case *ast.TypeSpec:
		if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
			t.Errorf("%s: type %s undocumented", fset.Position(s.Pos()), s.Name.Name)
		}
	case *ast.ValueSpec:
		for _, n := range s.Names {
			if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
				t.Errorf("%s: %s undocumented", fset.Position(n.Pos()), n.Name)
			}
		}
	}
}
