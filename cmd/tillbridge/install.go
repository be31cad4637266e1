package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/installer"
)

const installUsage = `usage: tillbridge install [flags]

Installs tillbridge as a system service that starts at boot and restarts
after a failure: a systemd unit on Linux, a Windows service (automatic,
delayed start, recovery actions) on Windows. Creates the service account
(Linux), the folders, the commented sample configuration if none exists,
and udev rules for the configured USB printers and scanners (Linux).
Refuses to overwrite an installed service. Does not start it unless
--start is given. Run as root (Linux) or from an administrator prompt.

Examples:
  sudo tillbridge install --dry-run            # show every file and setting, change nothing
  sudo tillbridge install
  sudo tillbridge install --usb 0416:5011,05e0:1200 --start
  sudo tillbridge install --udev-only          # rewrite the udev rules after adding a device
  tillbridge install --dry-run --os windows    # the Windows service definition, from Linux

Flags:
`

// installOptions are the parsed flags of install.
type installOptions struct {
	paths    installer.Paths
	target   string
	bin      string
	user     string
	group    string
	usb      string
	dryRun   bool
	udevOnly bool
	start    bool
}

func installCommand() command {
	return command{
		name:    "install",
		summary: "install the system service (--dry-run shows every file and setting)",
		run:     runInstall,
	}
}

func runInstall(ctx context.Context, cio cmdIO, args []string) error {
	opts, err := parseInstallFlags(cio.stderr, args)
	if err != nil {
		return usageErr(err)
	}
	plan, err := buildPlan(cio.stdout, opts)
	if err != nil {
		return usageErr(err)
	}
	switch {
	case opts.dryRun:
		return dryRun(ctx, cio.stdout, plan)
	case opts.udevOnly:
		return installer.InstallUdevRules(ctx, plan, cio.stdout)
	}
	if err := installer.Install(ctx, plan, cio.stdout); err != nil {
		return err
	}
	if !opts.start {
		return nil
	}
	if err := installer.Start(ctx, plan.Name); err != nil {
		return err
	}
	fmt.Fprintf(cio.stdout, "Service %s started.\n", plan.Name)
	return nil
}

// parseInstallFlags parses args; paths not given take the target's
// defaults.
func parseInstallFlags(stderr io.Writer, args []string) (installOptions, error) {
	o := installOptions{paths: installer.DefaultPaths(), target: runtime.GOOS}
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, installUsage); fs.PrintDefaults() }
	o.paths.RegisterFlags(fs)
	fs.StringVar(&o.target, "os", o.target, "target `OS` of a --dry-run: linux or windows")
	fs.StringVar(&o.bin, "bin", "", "the tillbridge `binary` the service runs (default: this one)")
	fs.StringVar(&o.user, "user", installer.DefaultUser, "Linux service `account`, created if missing; root runs it as root")
	fs.StringVar(&o.group, "group", "", "Linux service `group` (default: the account's name)")
	fs.StringVar(&o.usb, "usb", "", "extra USB devices as `VID:PID,...` for the udev rules (the configured ones are added)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print every file and setting install would write; change nothing")
	fs.BoolVar(&o.udevOnly, "udev-only", false, "only rewrite the udev rules and reload udev (Linux)")
	fs.BoolVar(&o.start, "start", false, "start the service after installing it")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.target != runtime.GOOS {
		if !o.dryRun {
			return o, fmt.Errorf("--os %s needs --dry-run: a service is installed on its own OS", o.target)
		}
		o.paths = targetDefaults(fs, o.paths, o.target)
	}
	return o, nil
}

// targetDefaults replaces the paths not given as flags by the target OS's
// defaults (without this host's environment).
func targetDefaults(fs *flag.FlagSet, p installer.Paths, target string) installer.Paths {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	def := installer.DefaultPathsFor(target, func(string) string { return "" })
	for name, pair := range map[string][2]*string{
		"config": {&p.Config, &def.Config}, "data": {&p.Data, &def.Data},
		"logs": {&p.Logs, &def.Logs}, "run-dir": {&p.Run, &def.Run},
	} {
		if !set[name] {
			*pair[0] = *pair[1]
		}
	}
	return p
}

// buildPlan turns the options into a validated plan.
func buildPlan(out io.Writer, o installOptions) (installer.Plan, error) {
	local := o.target == runtime.GOOS
	paths := o.paths
	if local {
		var err error
		if paths, err = paths.Abs(); err != nil {
			return installer.Plan{}, err
		}
	}
	bin, err := serviceBinary(o.bin, o.target, local)
	if err != nil {
		return installer.Plan{}, err
	}
	p := installer.NewPlan(o.target, paths, bin)
	p.SampleConfig = daemon.SampleConfig()
	if o.target == "linux" {
		p.User, p.Group = serviceAccount(o.user, o.group)
		if p.USB, err = usbDevices(out, o.usb, paths.Config, p.SampleConfig); err != nil {
			return p, err
		}
	}
	return p, p.Validate()
}

// serviceAccount maps --user root (or empty) to running as root.
func serviceAccount(user, group string) (string, string) {
	if user == "" || user == "root" {
		return "", ""
	}
	if group == "" {
		group = user
	}
	return user, group
}

// serviceBinary is --bin made absolute, else this executable. A `go run`
// build lives in a temporary folder that will be gone: refuse it.
func serviceBinary(bin, target string, local bool) (string, error) {
	if !local {
		if bin == "" && target == "windows" {
			return `C:\Program Files\tillbridge\tillbridge.exe`, nil
		}
		if bin == "" {
			return "/usr/local/bin/tillbridge", nil
		}
		return bin, nil
	}
	if bin != "" {
		return filepath.Abs(bin)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this binary (pass --bin): %w", err)
	}
	if strings.Contains(exe, "go-build") {
		return "", fmt.Errorf("this binary (%s) is a temporary `go run` build; copy tillbridge to its final place (e.g. /usr/local/bin) and install from there, or pass --bin", exe)
	}
	return exe, nil
}

// usbDevices are the USB printers and scanners of the configuration (the
// existing file, else the sample about to be installed) plus --usb.
func usbDevices(out io.Writer, extra, configPath string, sample []byte) ([]installer.USBID, error) {
	ids, err := installer.ParseUSBIDs(extra)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(configPath)
	source := configPath
	if errors.Is(err, fs.ErrNotExist) {
		data, source, err = sample, "the sample configuration", nil
	}
	if err != nil {
		fmt.Fprintf(out, "note: cannot read %s (%v): udev rules only for --usb devices\n", configPath, err)
		return ids, nil
	}
	cfg, err := daemon.DecodeConfig(data, "")
	if err != nil {
		fmt.Fprintf(out, "note: %s does not parse (%v): udev rules only for --usb devices\n", source, err)
		return ids, nil
	}
	for _, p := range cfg.Printers {
		if p.VID != 0 {
			ids = append(ids, installer.USBID{Vendor: p.VID, Product: p.PID})
		}
	}
	for _, s := range cfg.Scanners {
		if s.VID != 0 {
			ids = append(ids, installer.USBID{Vendor: s.VID, Product: s.PID})
		}
	}
	return ids, nil
}

// dryRun prints the plan, and whether install would refuse here.
func dryRun(ctx context.Context, w io.Writer, p installer.Plan) error {
	if err := installer.DryRun(w, p); err != nil {
		return err
	}
	if p.OS != runtime.GOOS {
		return nil
	}
	st, err := installer.ServiceStatus(ctx, p.Name)
	switch {
	case err != nil:
		fmt.Fprintf(w, "\nnote: could not ask the service manager about %s: %v\n", p.Name, err)
	case st.Installed():
		fmt.Fprintf(w, "\nnote: %s is already installed (%s): install would refuse; uninstall first, or upgrade (stop, replace the binary, start).\n", p.Name, st.State)
	}
	return nil
}
