// Package grid divides a managed pool of customers into K grid cells (网格划分)
// so that every cell has about the same consumption and about the same
// number of customers, and proposes the fewest moves that re-balance an
// existing division after the pool changed.
//
// It is pure Go and deterministic: the same input gives the same cells on
// every node. It knows nothing about records: items are (id, weight) pairs.
// What it is not: an exact solver. Balanced multiway partitioning is
// NP-hard; Divide uses greedy LPT seeding under a cardinality constraint
// followed by pairwise swap and move local search, which on Pareto-shaped
// pools reaches a fraction of a percent where the data allows it. A
// customer heavier than a cell's fair share can never be balanced; the
// deviation reported then says so.
package grid
