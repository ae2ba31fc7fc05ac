// Package tiers knows the shape of the company: the region tree of a
// provincial power-supply company and how one node is linked to its parent.
//
// Regions are GB/T 2260 administrative codes that nest by prefix: province
// "32" (江苏省), city "3207" (连云港市), county "320722" (东海县). [RegionCode]
// parses and navigates one code; [Tree] is an immutable, validated set of
// regions (safe for concurrent reads) and [Jiangsu] is the built-in tree used
// by demos and tests. [Config] is a node's link configuration: its region,
// its tier and the internal addresses of its parent region's nodes; its
// Validate method produces the messages an operator reads at start-up.
//
// What tiers is not, yet: the architecture also gives this package the
// management modes (autonomous, partial, full), ownership epochs and the
// routing of writes to the owner region. None of that is built; the region
// tree and the link configuration are what exists today. tiers does no I/O
// and imports only the standard library.
//
// The built-in name table covers Jiangsu: the province, its 13 cities, and
// the counties and districts of every city except 南通 (3206), whose codes
// changed in 2020 and are left out rather than guessed. [Name] answers ""
// for any code it does not know.
package tiers
