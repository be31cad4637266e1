package queue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// JournalFileMode is the permissions of the journal and its -wal and -shm
// files: the service account only. SQLite creates them 0644 whatever the
// umask (it sets the mode itself), and the journal is the audit trail of
// every payment.
const JournalFileMode fs.FileMode = 0o600

// journalFiles are the journal file and SQLite's companions in WAL mode.
func journalFiles(file string) []string {
	return []string{file, file + "-wal", file + "-shm"}
}

// protectJournalFiles sets JournalFileMode on the journal files that exist.
// SQLite gives a -wal or -shm file it creates later the database file's
// mode, so once the database is 0600 they stay so.
func protectJournalFiles(file string) error {
	for _, f := range journalFiles(file) {
		if err := os.Chmod(f, JournalFileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("queue: journal file mode: %w", err)
		}
	}
	return nil
}
