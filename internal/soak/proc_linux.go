package soak

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr makes the daemon die with the soak tool (Linux: parent-death
// signal), so no daemon outlives an interrupted soak.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// Memory reads the daemon's resident set size now (VmRSS) and its peak
// (VmHWM) from /proc, in bytes.
func (p *Proc) Memory() (rss, hwm int64, err error) {
	pid := p.PID()
	if pid == 0 {
		return 0, 0, fmt.Errorf("memory: no daemon running")
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, perr := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("memory: %s: %w", name, perr)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}
