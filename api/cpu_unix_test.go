//go:build unix

package api_test

import (
	"syscall"
	"time"
)

// processCPU answers the CPU time the process has spent, user and system,
// every goroutine and Pebble's compactions included (getrusage): on a
// machine others load, what a run cost, where its wall time says how long
// it also waited.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
