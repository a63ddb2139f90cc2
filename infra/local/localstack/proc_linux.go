//go:build linux

package localstack

import "syscall"

// sysProcAttr makes the kernel kill a tool when the process that started it dies, so a crashed or killed test
// binary leaves no Java or local-kms behind. Pdeathsig fires when the starting OS thread exits; the Go runtime
// keeps threads alive unless a goroutine locked to one exits, which this package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
