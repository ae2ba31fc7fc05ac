// Package demo starts gridcrm's demo hierarchy in one process and loads it
// with generated sample data through the HTTP API: province 32, cities 3207
// and 3208, four counties (one a three-node raft group), linked child to
// parent through netstack WireGuard tunnels (or plain TCP), every
// node-to-node connection mutual TLS from a demo certificate authority.
//
// The loader (client.go) is a client of the public API like any other: it
// sends a request again after a transient failure (503 unavailable, 429
// with Retry-After, a connection that could not be made), with backoff;
// after a 504 outcome_unknown (or a connection lost once the request was
// sent) it first reads the record back, so that nothing is written twice;
// and the whole load runs under one deadline (Options.LoadTimeout) whose
// expiry is a clear error naming the request and its last failure.
//
// cmd/gridcrm's demo command turns its flags into Options and calls Start.
package demo
