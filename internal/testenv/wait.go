package testenv

import (
	"testing"
	"time"
)

// Bound is the usual limit of a wait in the tests: long enough for a
// loaded 2-core machine under -race, short enough that a hung test fails
// instead of hanging. It is a bound, never a timing assertion.
const Bound = 30 * time.Second

// pollEvery is how often WaitFor evaluates its condition.
const pollEvery = 20 * time.Millisecond

// WaitFor calls cond until it returns true and fails the test, naming
// what was awaited, if it has not within timeout. cond runs on the test's
// goroutine, so it may call t.Fatal itself.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("waited %s for %s; it never happened", timeout, what)
		}
		time.Sleep(pollEvery)
	}
}
