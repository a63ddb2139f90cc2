//go:build !linux

package localstack

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: Stop (or the wrapper) must end the tools.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
