// Command tillbridge is the till-side payment middleware: a daemon between
// legacy cash-register (ECR) software and the Alipay gateway, plus the
// commands store IT and technicians use to install, test and diagnose it.
//
// Every subcommand lives in its own file and is listed in commands below.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of tillbridge.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, io cmdIO, args []string) error
}

// cmdIO carries the standard streams, so commands are testable in-process.
type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// exitError carries a documented exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes shared by all commands (documented in docs/operations.md).
const (
	exitOK        = 0
	exitFailure   = 1 // the command ran and found a problem, or failed
	exitUsage     = 2 // bad flags or arguments
	exitNoDaemon  = 3 // the daemon is not running or not reachable
	exitUnhealthy = 4 // the daemon answered, but something it checks is not healthy
	exitDataInUse = 5 // run: another daemon holds the data directory's lock
)

// commands lists every subcommand. Add a line here when adding a file.
func commands() []command {
	return []command{
		versionCommand(),
		runCommand(),
		ecrCommand(),
		installCommand(),
		uninstallCommand(),
		startCommand(),
		stopCommand(),
		restartCommand(),
		receiptCommand(),
		soakCommand(),
		sandboxCommand(),
		statusCommand(),
		devicesCommand(),
		printTestCommand(),
		scanTestCommand(),
		gatewayCheckCommand(),
		queueCommand(),
		journalCommand(),
		bundleCommand(),
		configCommand(),
		reconcileCommand(),
		validateCommand(),
		consoleCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, cmdIO{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// runMain dispatches args to a subcommand and turns its error into an exit code.
func runMain(ctx context.Context, cio cmdIO, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(cio.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, cio, args[1:])
		if err == nil {
			return exitOK
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintf(cio.stderr, "tillbridge %s: %v\n", c.name, ee.err)
			}
			return ee.code
		}
		fmt.Fprintf(cio.stderr, "tillbridge %s: %v\n", c.name, err)
		return exitFailure
	}
	fmt.Fprintf(cio.stderr, "tillbridge: unknown command %q (see 'tillbridge help')\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tillbridge <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tillbridge <command> -h' for the flags of a command.")
}

// usageErr wraps err as a usage error (exit code 2).
func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

// newFlagSet returns a command's flag set: errors and help go to stderr,
// help prints usageText and then the flags.
func newFlagSet(name, usageText string, cio cmdIO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {
		fmt.Fprint(cio.stderr, usageText)
		fs.PrintDefaults()
	}
	return fs
}

// flagErr turns a flag-parsing error into an exit: -h/--help (the flag set
// has printed the help) exits 0 quietly, anything else is a usage error.
func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return &exitError{code: exitOK, err: errors.New("")}
	}
	return usageErr(err)
}

// parseNoArgs parses args into fs and refuses positional arguments (exit
// code 2); -h prints the help and exits 0.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}
