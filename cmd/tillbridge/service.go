package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"

	"github.com/tillbridge/tillbridge/installer"
)

// This file holds the service control commands: uninstall, start, stop and
// restart. install is in install.go; the service state is shown by
// `tillbridge status` (installer.ServiceStatus).

func uninstallCommand() command {
	return command{
		name:    "uninstall",
		summary: "stop and remove the system service (keeps configuration, data and logs)",
		run:     runUninstall,
	}
}

func runUninstall(ctx context.Context, cio cmdIO, args []string) error {
	paths := installer.DefaultPaths()
	fs := flag.NewFlagSet("uninstall", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {
		fmt.Fprint(cio.stderr, `usage: tillbridge uninstall

Stops the service, removes it and waits until the service manager no longer
knows it; on Linux also removes the udev rules. The configuration, the data
folder (the payment journal), the logs and the service account stay, on
purpose. Run as root (Linux) or from an administrator prompt.

Flags:
`)
		fs.PrintDefaults()
	}
	paths.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return installer.Uninstall(ctx, installer.NewPlan(runtime.GOOS, paths, ""), cio.stdout)
}

func startCommand() command {
	return controlCommand("start", "start the installed service and wait until it runs", installer.Start)
}

func stopCommand() command {
	return controlCommand("stop", "stop the service and wait until it has stopped", installer.Stop)
}

func restartCommand() command {
	return controlCommand("restart", "stop and start the service", installer.Restart)
}

// controlCommand builds a flag-less command that calls fn on the service.
func controlCommand(name, summary string, fn func(context.Context, string) error) command {
	return command{
		name:    name,
		summary: summary,
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			fs := flag.NewFlagSet(name, flag.ContinueOnError)
			fs.SetOutput(cio.stderr)
			fs.Usage = func() {
				fmt.Fprintf(cio.stderr, "usage: tillbridge %s\n\n%s (systemd or the Windows SCM).\nRun as root (Linux) or from an administrator prompt.\n", name, summary)
			}
			if err := fs.Parse(args); err != nil {
				return usageErr(err)
			}
			if fs.NArg() > 0 {
				return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
			}
			if err := fn(ctx, installer.ServiceName); err != nil {
				return err
			}
			fmt.Fprintf(cio.stdout, "%s: done\n", name)
			return nil
		},
	}
}
