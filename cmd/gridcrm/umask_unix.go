//go:build unix

package main

import "syscall"

// privateUmask makes every file the node creates from now on (Pebble's,
// raft's snapshots, certificates written by demo) unreadable to group and
// others, whatever the caller's umask.
func privateUmask() { syscall.Umask(0o077) }
