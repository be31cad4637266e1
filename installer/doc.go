// Package installer installs, controls and runs tillbridge as a system
// service: a systemd unit on Linux, an SCM service on Windows, both through
// kardianos/service.
//
// Everything an install does is first resolved into a [Plan]: the paths
// (absolute, see [DefaultPaths]), the binary and its arguments, the service
// account, the USB devices the service must open, the restart policy. The
// plan renders to the exact files and settings an install writes
// ([RenderSystemdUnit], [RenderUdevRules], [WindowsSettings]), which is
// what [DryRun] prints and what tests check, without root. [Install] then
// applies the same steps: service account, folders with owners and modes,
// the commented sample configuration (never overwriting one), udev rules,
// the service definition, and on Windows the recovery actions, set
// explicitly and read back.
//
// [Start], [Stop], [Restart] and [Uninstall] control the installed service
// and wait, bounded, for the state they asked for; [ServiceStatus] reports
// it to anyone. [RunService] is how `tillbridge run` runs the daemon,
// under a service manager or in the foreground. [CheckSecretFile] refuses
// key files others can read.
//
// The package holds no package-level mutable state. Per-OS code lives in
// _unix.go, _linux.go and _windows.go files behind the same functions; the
// plan rendering is plain Go on every OS, so a Linux host can show and test
// a Windows plan.
package installer
