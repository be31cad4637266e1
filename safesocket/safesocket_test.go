package safesocket_test

import (
	"testing"

	"github.com/tillbridge/tillbridge/safesocket"
)

func TestPipePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"tb":                 `\\.\pipe\tb`,
		`\\.\pipe\other`:     `\\.\pipe\other`,
		`\\server\pipe\lane`: `\\server\pipe\lane`,
	} {
		if got := safesocket.PipePath(in); got != want {
			t.Errorf("PipePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorsSayWhere(t *testing.T) {
	if got := (&safesocket.InUseError{Path: "/run/x.sock"}).Error(); got != "a live server already answers on /run/x.sock" {
		t.Errorf("InUseError: %q", got)
	}
	if got := (&safesocket.NotSocketError{Path: "/run/x.sock"}).Error(); got != "/run/x.sock exists and is not a socket" {
		t.Errorf("NotSocketError: %q", got)
	}
}
