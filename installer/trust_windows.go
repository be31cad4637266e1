//go:build windows

package installer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// fileDeleteChild is FILE_DELETE_CHILD: on a folder, delete (and so
// replace) what is inside.
const fileDeleteChild = 0x40

// Rights that let a principal change or replace, by what is checked:
// the binary itself; the folder holding it (adding a file there plants a
// DLL the binary loads first); and every folder above (renaming or
// emptying it swaps the path).
const (
	binaryWriteRights = windows.FILE_WRITE_DATA | windows.FILE_APPEND_DATA | windows.GENERIC_WRITE |
		windows.GENERIC_ALL | windows.WRITE_DAC | windows.WRITE_OWNER | windows.DELETE
	ancestorWriteRights = fileDeleteChild | windows.GENERIC_WRITE | windows.GENERIC_ALL |
		windows.WRITE_DAC | windows.WRITE_OWNER | windows.DELETE
	folderWriteRights = ancestorWriteRights | windows.FILE_WRITE_DATA
)

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
	p := filepath.Clean(path)
	for mask, n := windows.ACCESS_MASK(binaryWriteRights), 0; ; n++ {
		who, err := broadWriters(p, mask)
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
		if mask = ancestorWriteRights; n == 0 {
			mask = folderWriteRights
		}
	}
}

// broadWriters names the broad principals the path's DACL grants any of
// the rights in mask.
func broadWriters(path string, mask windows.ACCESS_MASK) (string, error) {
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
	who, err := broadAllowed(dacl, mask)
	return strings.Join(who, ", "), err
}

// CheckTrustedFolders does nothing on Windows: the installer replaces the
// ACL of the folders it creates under %ProgramData%.
func CheckTrustedFolders(string, string) error { return nil }

// CheckSocketFolder does nothing on Windows, which uses named pipes.
func CheckSocketFolder(string, string) error { return nil }
