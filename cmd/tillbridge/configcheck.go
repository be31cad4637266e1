package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/installer"
)

func configCommand() command {
	return command{name: "config", summary: "check a configuration file: every problem named (config check FILE)",
		run: runConfig}
}

const configUsage = `usage: tillbridge config check [--json] [FILE]

Checks a configuration file as the daemon would read it at start-up, and
names every problem: TOML syntax, unknown keys (typos) with their line,
invalid or missing values with their key (e.g. lane[1].printer), key files
that are missing, empty, malformed, readable by others, owned by another
user than root or the service account, or in a folder others can write
(with the command that fixes them), a configuration holding an inline key
that others can read, unix sockets with a mode wider than 0660, and a
control or ECR socket in a folder everyone can write. FILE defaults to the
installed configuration. Run it as root or as the service account, so the
key files can be read.

Exit codes: 0 no problem; 1 problems found (listed); 2 bad flags.

Examples:
  sudo tillbridge config check /etc/tillbridge/tillbridge.toml
  tillbridge config check --json ./tillbridge.toml
`

// configReport is the result of config check.
type configReport struct {
	File     string   `json:"file"`
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
	Warnings []string `json:"warnings"`
	Lanes    int      `json:"lanes,omitempty"`
	SignType string   `json:"sign_type,omitempty"`
}

func runConfig(_ context.Context, cio cmdIO, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(cio.stderr, configUsage)
		return usageErr(errors.New("config needs check"))
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() { fmt.Fprint(cio.stderr, configUsage) }
	asJSON := fs.Bool("json", false, "print JSON for machines")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	file := installer.DefaultPaths().Config
	switch len(pos) {
	case 0:
	case 1:
		file = pos[0]
	default:
		return usageErr(errors.New("give one configuration file"))
	}
	rep := checkConfig(file)
	if *asJSON {
		if err := printJSON(cio.stdout, rep); err != nil {
			return err
		}
	} else {
		printConfigReport(cio.stdout, rep)
	}
	if !rep.OK {
		return &exitError{code: exitFailure, err: errors.New("")}
	}
	return nil
}

// checkConfig runs every check on file.
func checkConfig(file string) configReport {
	rep := configReport{File: file, Problems: []string{}, Warnings: []string{}}
	cfg, err := daemon.LoadConfig(file)
	if err != nil {
		rep.Problems = append(rep.Problems, configProblems(err)...)
		return rep
	}
	rep.Lanes, rep.SignType = len(cfg.Lanes), cfg.Gateway.SignType
	rep.Problems = append(rep.Problems, secretProblems(file, cfg, installer.ServiceAccount(installer.DefaultUser))...)
	rep.Problems = append(rep.Problems, socketProblems(cfg)...)
	if len(rep.Problems) == 0 {
		if err := daemon.CheckGatewayKeys(cfg.Gateway); err != nil {
			rep.Problems = append(rep.Problems, "gateway keys: "+err.Error())
		}
	}
	if cfg.Gateway.MD5Key != "" {
		rep.Warnings = append(rep.Warnings, "gateway.md5_key is inline: prefer md5_key_file, and keep this file private")
	}
	if cfg.Daemon.LogFile == "" {
		rep.Warnings = append(rep.Warnings, "daemon.log_file is not set: logs go to standard error only "+
			"(the systemd journal; lost on Windows)")
	}
	rep.OK = len(rep.Problems) == 0
	return rep
}

// configProblems lists each problem LoadConfig found.
func configProblems(err error) []string {
	var uk *daemon.UnknownKeysError
	var ve *daemon.ValidationError
	var out []string
	switch {
	case errors.As(err, &uk):
		for _, k := range uk.Keys {
			p := "unknown key " + k.Key
			if k.Line > 0 {
				p += fmt.Sprintf(" (line %d)", k.Line)
			}
			out = append(out, p+": a typo? see docs/configuration.md")
		}
		out = append(out, "fix the unknown keys first: the values are checked once every key is known")
	case errors.As(err, &ve):
		for _, f := range ve.Fields {
			out = append(out, f.Error())
		}
	default:
		out = append(out, err.Error())
	}
	return out
}

// secretProblems checks every key file, and the configuration itself when
// it holds an inline key: present, readable, private, owned by root or the
// service account acct, in folders nobody else may write.
func secretProblems(file string, cfg *daemon.Config, acct installer.Account) []string {
	var out []string
	check := func(key, path string) {
		if path == "" {
			return
		}
		if _, err := os.ReadFile(path); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", key, describeReadErr(err)))
			return
		}
		if err := installer.CheckSecretFileFor(path, acct); err != nil {
			out = append(out, key+": "+err.Error())
		}
	}
	g := cfg.Gateway
	if g.SignType == "MD5" {
		check("gateway.md5_key_file", g.MD5KeyFile)
	} else {
		check("gateway.private_key_file", g.PrivateKeyFile)
		if _, err := os.Stat(g.AlipayPublicKeyFile); err != nil {
			out = append(out, fmt.Sprintf("gateway.alipay_public_key_file: %v", describeReadErr(err)))
		}
	}
	inline := g.MD5Key != ""
	for i, l := range cfg.Listen {
		check(fmt.Sprintf("listen[%d].shared_key_file", i), l.SharedKeyFile)
		inline = inline || l.SharedKey != ""
	}
	if inline {
		if err := installer.CheckSecretFileFor(file, acct); err != nil {
			out = append(out, "the configuration holds an inline key: "+err.Error())
		}
	}
	return out
}

func describeReadErr(err error) string {
	if errors.Is(err, os.ErrPermission) {
		return err.Error() + " (run as root or as the service account)"
	}
	return err.Error()
}

func printConfigReport(w io.Writer, r configReport) {
	if r.OK {
		fmt.Fprintf(w, "%s: OK (%d lanes, sign type %s)\n", r.File, r.Lanes, r.SignType)
	} else {
		fmt.Fprintf(w, "%s: %d problem(s):\n", r.File, len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", p)
	}
}
