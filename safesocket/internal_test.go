package safesocket

import "testing"

func TestPipeSDDL(t *testing.T) {
	if got := pipeSDDL(""); got != "D:P(A;;GA;;;SY)(A;;GA;;;BA)" {
		t.Fatalf("no group: %s", got)
	}
	want := "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;S-1-5-32-545)"
	if got := pipeSDDL("S-1-5-32-545"); got != want {
		t.Fatalf("with group: %s", got)
	}
}
