package ecrproto

import "testing"

func TestPipePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                   DefaultPipeName,
		"tb":                 `\\.\pipe\tb`,
		`\\.\pipe\other`:     `\\.\pipe\other`,
		`\\server\pipe\lane`: `\\server\pipe\lane`,
	} {
		if got := pipePath(in); got != want {
			t.Errorf("pipePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7420": true, "127.1.2.3:1": true, "localhost:1": true, "[::1]:1": true,
		"0.0.0.0:1": false, ":1": false, "192.168.1.5:1": false, "till.local:1": false, "garbage": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}
