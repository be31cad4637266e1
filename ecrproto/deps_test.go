package ecrproto_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps ecrproto on the standard library and safesocket (a
// leaf), plus go-winio (and what it needs) on Windows only.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	allowed := map[string][]string{
		"linux": {"github.com/tillbridge/tillbridge/ecrproto", "github.com/tillbridge/tillbridge/safesocket"},
		"windows": {"github.com/tillbridge/tillbridge/ecrproto", "github.com/tillbridge/tillbridge/safesocket",
			"github.com/Microsoft/go-winio", "golang.org/x/sys/"},
	}
	for goos, ok := range allowed {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list (%s): %v", goos, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if !hasAnyPrefix(pkg, ok) {
				t.Errorf("%s: ecrproto depends on %s", goos, pkg)
			}
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
