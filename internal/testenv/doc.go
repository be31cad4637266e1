// Package testenv holds the test helpers every package's tests share: a
// bounded wait (WaitFor) and the kill -9 child harness (Main, Child,
// Start, Proc), which re-executes the test binary in a named role — or
// runs any other program — reads its output line by line, and SIGKILLs it.
//
// It is a leaf: it imports only the standard library, so the internal
// tests of any package (queue, ecrproto, daemon/datalock…) may use it.
// Starting a whole daemon on the sandbox is daemonenv's job.
package testenv
