//go:build windows

package installer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// writeRights are the access bits that let a principal change or replace
// a file or folder.
const writeRights = windows.FILE_WRITE_DATA | windows.FILE_APPEND_DATA | windows.GENERIC_WRITE |
	windows.GENERIC_ALL | windows.WRITE_DAC | windows.WRITE_OWNER | windows.DELETE

// Account is unused on Windows: files are checked by their ACL, and the
// service runs as LocalSystem.
type Account struct{}

// ProcessAccount is the zero Account on Windows.
func ProcessAccount() Account { return Account{} }

// ServiceAccount is the zero Account on Windows.
func ServiceAccount(string) Account { return Account{} }

// CheckSecretFileFor is CheckSecretFile on Windows (the ACL decides).
func CheckSecretFileFor(path string, _ Account) error { return CheckSecretFile(path) }

// CheckTrustedBinary returns an *UntrustedPathError when the binary, or any
// folder above it, lets Everyone, Authenticated Users or Users change it:
// the service runs that binary as LocalSystem.
func CheckTrustedBinary(path string) error {
	what := "binary " + path
	for p := filepath.Clean(path); ; {
		who, err := broadWriters(p)
		if err != nil {
			return fmt.Errorf("check %s: %w", what, err)
		}
		if who != "" {
			return &UntrustedPathError{Path: p, For: what,
				Problem: "can be changed by " + who + ", so they could replace what the service runs as LocalSystem",
				Fix:     fmt.Sprintf(`icacls "%s" /remove:g *S-1-1-0 *S-1-5-11 *S-1-5-32-545 (or install the binary under %%ProgramFiles%%)`, p)}
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

// broadWriters names the broad principals the path's DACL lets write.
func broadWriters(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return "", fmt.Errorf("read ACL of %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return "", fmt.Errorf("DACL of %s: %w", path, err)
	}
	if dacl == nil {
		return "everyone (no ACL)", nil
	}
	who, err := broadAllowed(dacl, writeRights)
	return strings.Join(who, ", "), err
}

// CheckTrustedFolders does nothing on Windows: the installer replaces the
// ACL of the folders it creates under %ProgramData%.
func CheckTrustedFolders(string, string) error { return nil }

// CheckSocketFolder does nothing on Windows, which uses named pipes.
func CheckSocketFolder(string, string) error { return nil }
