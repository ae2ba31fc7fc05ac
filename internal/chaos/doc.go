// Package chaos is a black-box fault harness for gridcrm: it runs the real
// `gridcrm node` binary as separate processes, hurts them on a seeded
// schedule while clients write and read through the public API, and then
// checks that what the nodes hold agrees with what the clients were told.
// `make chaos` runs it (cmd/chaos); it is not part of `make test`.
//
// The hierarchy: province 32, city 3207, county 320722 with three nodes
// (dh1..dh3) and county 320723 with one (gy1; three with -county2-nodes 3),
// plain internal listeners, no tunnels. As root with `ip netns`, every node
// runs in a network namespace of its own, joined by a bridge in a hub
// namespace from which the clients dial; every address lives only inside
// those namespaces. Elsewhere the nodes share 127.0.0.1 and partitions
// are skipped with a printed reason.
//
// Pieces, one file each: layout.go (nodes, configs), network.go and
// netns.go (placement, cuts), process.go (start, signals, timed SIGTERM),
// cluster.go (readiness, the leader from GET /api/v1/cluster), client.go
// (the API as admin), classify.go (what an answer says about a write: the
// one table to adjust when the API's contract changes), workload.go
// (writers and readers), schedule.go and faults.go (what to break and
// how), history.go, dump.go (a stopped node's store, read from a copy
// with the store package), compare.go (replicas key by key), linearize.go
// (the porcupine model), checks.go, availability.go, report.go, run.go.
//
// Writers create customers with account numbers that name the writer
// (W03-000117), round robin over the county nodes, and retry a create on
// the region's next node after an answer that is not an acknowledgement; a
// retry refused as a duplicate tells that an earlier attempt went in. They
// also update a few "register" customers with compare-and-set on the
// version, which readers read (linearizable reads) on random nodes.
//
// The checks, each reported as timestamped anomalies:
//  1. every acknowledged create is on every replica of its region and at
//     the city and the province;
//  2. no record that no client wrote, none whose every attempt was
//     answered "not applied", no update answered "not applied" visible;
//  3. the replicas of a region are equal key for key (node-local keys
//     aside), and the ancestors' copies of its records equal the owner's;
//  4. the registers' histories are linearizable (porcupine; a write of
//     unknown outcome may or may not take effect), with stale reads
//     named with their times;
//  5. each node's region summary equals the records it holds;
//  6. no account number under two ids;
//  7. no SIGTERM exit longer than 15 s (the node gets SIGQUIT for a
//     goroutine dump in its log, then SIGKILL); also nodes that exit by
//     themselves, are not ready long after a fault, or replicas that do
//     not converge.
//
// What it is not: a model checker, a benchmark, or a test of tunnels or
// management modes. The same seed replays the same schedule of kinds,
// targets and durations; the timing is the system's, so two runs of a seed
// are alike, not equal. Its pure parts (schedule, classifier, comparer,
// model, availability) have fast unit tests that need no processes.
package chaos
