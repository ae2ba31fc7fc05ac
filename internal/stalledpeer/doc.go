// Package stalledpeer is a peer for tests whose connections stop taking
// bytes: it accepts them and never reads, as a TCP connection stuck behind
// a tunnel looks to its writer once the buffers are full.
//
// What it is not: a fault injector for links already made (see
// testcluster.Faults); it is the far end of a fresh connection.
package stalledpeer
