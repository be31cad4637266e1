//go:build !windows

package installer

import (
	"fmt"
	"os"
)

// CheckSecretFile returns an *InsecureFileError when the file at path (a
// key file, or a configuration holding an inline key) can be read or
// written by its group or by others. Call it for every secret-bearing file
// before using it.
func CheckSecretFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check secret file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return &InsecureFileError{Path: path, Mode: fi.Mode(), Fix: unixFix(path)}
	}
	return nil
}
