package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// colorConsole reports whether the console output w may carry ANSI colours:
// only when it is a terminal and NO_COLOR (no-color.org) is not set. Output
// piped to a file, a pager or a CI log stays plain text.
func colorConsole(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
