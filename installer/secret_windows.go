//go:build windows

package installer

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// readRights are the access bits that let a principal read a file.
const readRights = windows.FILE_READ_DATA | windows.GENERIC_READ | windows.GENERIC_ALL

// broadPrincipals may not read a secret file: everyone, every signed-in
// user, the local Users group.
func broadPrincipals() map[string]windows.WELL_KNOWN_SID_TYPE {
	return map[string]windows.WELL_KNOWN_SID_TYPE{
		"Everyone":            windows.WinWorldSid,
		"Authenticated Users": windows.WinAuthenticatedUserSid,
		"Users":               windows.WinBuiltinUsersSid,
	}
}

// CheckSecretFile returns an *InsecureFileError when the file's DACL lets
// Everyone, Authenticated Users or Users read it (the default for files
// under %ProgramData% unless `tillbridge install` restricted the folder).
func CheckSecretFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("check secret file: %w", err)
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("check secret file %s: read ACL: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("check secret file %s: DACL: %w", path, err)
	}
	if dacl == nil { // a NULL DACL grants everyone everything
		return insecureWindows(path, "everyone (no ACL)")
	}
	who, err := broadAllowed(dacl, readRights)
	if err != nil {
		return fmt.Errorf("check secret file %s: %w", path, err)
	}
	if len(who) > 0 {
		return insecureWindows(path, strings.Join(who, ", "))
	}
	return nil
}

// broadAllowed lists the broad principals an allow entry grants any of
// the rights in mask.
func broadAllowed(dacl *windows.ACL, mask windows.ACCESS_MASK) ([]string, error) {
	var who []string
	for name, kind := range broadPrincipals() {
		sid, err := windows.CreateWellKnownSid(kind)
		if err != nil {
			return nil, err
		}
		for i := uint32(0); i < uint32(dacl.AceCount); i++ {
			var ace *windows.ACCESS_ALLOWED_ACE
			if err := windows.GetAce(dacl, i, &ace); err != nil {
				return nil, err
			}
			// An inherit-only entry is for the objects below, not this one.
			if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 ||
				ace.Mask&mask == 0 {
				continue
			}
			if (*windows.SID)(unsafe.Pointer(&ace.SidStart)).Equals(sid) {
				who = append(who, name)
				break
			}
		}
	}
	return who, nil
}

func insecureWindows(path, who string) error {
	fix := fmt.Sprintf(`icacls "%s" /inheritance:r /grant:r SYSTEM:F Administrators:F`, path)
	return &InsecureFileError{Path: path, Who: who, Fix: fix}
}
