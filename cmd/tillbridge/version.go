package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
// It is only written by the linker, never at run time.
var buildVersion string

// versionString reports the link-time version, else the module version or
// VCS revision from the build info, else "devel".
func versionString() string {
	if buildVersion != "" {
		return buildVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

func versionCommand() command {
	return command{
		name:    "version",
		summary: "print the version and build details",
		run: func(ctx context.Context, cio cmdIO, args []string) error {
			fs := flag.NewFlagSet("version", flag.ContinueOnError)
			fs.SetOutput(cio.stderr)
			if err := fs.Parse(args); err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(cio.stdout, "tillbridge %s (%s, %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
