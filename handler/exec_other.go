//go:build !linux

package handler

import "os/exec"

// dieWithParent is a no-op where the kernel offers no parent-death signal.
func dieWithParent(*exec.Cmd) {}

// endLeftovers is a no-op where commands get no process group.
func endLeftovers(*exec.Cmd) {}
