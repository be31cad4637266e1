//go:build !linux

package soak

import (
	"errors"
	"syscall"
)

// sysProcAttr has nothing to add outside Linux.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// Memory is measured on Linux only (from /proc).
func (p *Proc) Memory() (rss, hwm int64, err error) {
	return 0, 0, errors.New("memory: measured on Linux only")
}
