// Package slowfs wraps a Pebble filesystem so that every fsync takes a
// set time, as a disk's does: for tests and benchmarks of what waits on
// fsyncs (an in-memory filesystem's are instant, and this machine's disk
// syncs in about 0.14 ms, where many disks take 1–2 ms).
//
// What it is not: no fault injection beyond the delay (errors, torn
// writes, lost data are Pebble's crashable filesystem's, vfs.NewCrashableMem).
package slowfs
