package daemon

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/tillbridge/tillbridge"

// The domain packages of DESIGN.md's layout: none may import another, even
// indirectly. queue/alipaygw is the one allowed adapter between two of them.
// Leaf packages (the local-socket helper every listener shares) import no
// package of this module at all.
var (
	importFamilies = []string{"alipay", "ecrproto", "devices", "queue"}
	importAdapters = map[string]bool{"queue/alipaygw": true}
	leafPackages   = []string{"safesocket"}
	// forbiddenDeps: a package (and those below it) that must not depend,
	// even indirectly, on another. The control API declares what it needs
	// from the daemon (control.Backend); the daemon implements it.
	// Reconciliation reads journals and Alipay's files: it knows nothing of
	// the daemon, the ECR, the devices or the technician tools.
	forbiddenDeps = map[string][]string{"control": {"daemon"}, "console": {"daemon"},
		"recon": {"daemon", "control", "console", "ecrproto", "devices", "validate"}}
)

func TestImportRules(t *testing.T) {
	root := repoRoot(t)
	for _, fam := range importFamilies {
		for _, pkg := range packagesUnder(t, root, fam) {
			if importAdapters[pkg] {
				continue
			}
			for _, dep := range internalDeps(t, root, pkg) {
				if other := familyOf(dep); other != "" && other != fam {
					t.Errorf("%s imports %s (directly or not): %s and %s must not know each other", pkg, dep, fam, other)
				}
			}
		}
	}
}

func TestLeafPackagesImportNothingOfOurs(t *testing.T) {
	for _, leaf := range leafPackages {
		checkDeps(t, leaf, func(string) bool { return true },
			"it is a leaf and may import only the standard library, go-winio and x/sys")
	}
}

func TestForbiddenDeps(t *testing.T) {
	for dir, bad := range forbiddenDeps {
		checkDeps(t, dir, func(dep string) bool { return slices.Contains(bad, dep) }, "it must not")
	}
}

// checkDeps fails for every module package that a package in dir (or
// below) imports, directly or not, and that forbidden reports.
func checkDeps(t *testing.T, dir string, forbidden func(dep string) bool, why string) {
	t.Helper()
	root := repoRoot(t)
	pkgs := packagesUnder(t, root, dir)
	if len(pkgs) == 0 {
		t.Errorf("package %s not found", dir)
	}
	for _, pkg := range pkgs {
		for _, dep := range internalDeps(t, root, pkg) {
			if forbidden(dep) {
				t.Errorf("%s imports %s (directly or not): %s", pkg, dep, why)
			}
		}
	}
}

// familyOf returns the domain family a module-relative package belongs to.
func familyOf(pkg string) string {
	if importAdapters[pkg] {
		return ""
	}
	for _, f := range importFamilies {
		if pkg == f || strings.HasPrefix(pkg, f+"/") {
			return f
		}
	}
	return ""
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// packagesUnder lists the Go packages (module-relative) in dir and below.
func packagesUnder(t *testing.T, root, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if n := d.Name(); n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			return filepath.SkipDir
		}
		if _, err := build.ImportDir(p, 0); err == nil {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// internalDeps returns every module package pkg imports, transitively, in
// its non-test files for any OS and build tag combination we ship.
func internalDeps(t *testing.T, root, pkg string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, imp := range importsOf(root, p) {
			rel, ok := strings.CutPrefix(imp, modulePath+"/")
			if !ok || seen[rel] {
				continue
			}
			seen[rel] = true
			walk(rel)
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	return out
}

// importsOf reads the imports of a package's non-test files, over the
// platforms and tags tillbridge is built for.
func importsOf(root, pkg string) []string {
	set := map[string]bool{}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, tags := range [][]string{nil, {"nousb"}} {
			ctx := build.Default
			ctx.GOOS = goos
			ctx.BuildTags = tags
			bp, err := ctx.ImportDir(filepath.Join(root, filepath.FromSlash(pkg)), 0)
			if err != nil {
				continue
			}
			for _, imp := range bp.Imports {
				set[imp] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for imp := range set {
		out = append(out, imp)
	}
	return out
}
