// Package tiers knows the shape of the company and its rules: the region
// tree of a provincial power-supply company, how one node is linked to its
// parent, who writes a record, where a write goes and what crosses a link.
//
// Regions are GB/T 2260 administrative codes that nest by prefix: province
// "32" (江苏省), city "3207" (连云港市), county "320722" (东海县). [RegionCode]
// parses and navigates one code; [Tree] is an immutable, validated set of
// regions (safe for concurrent reads) and [Jiangsu] is the built-in tree used
// by demos and tests. [Config] is a node's link configuration: its region,
// its tier and the internal addresses of its parent region's nodes; its
// Validate method produces the messages an operator reads at start-up.
//
// The rules of the hierarchy are pure functions here, each tested by a
// table, so that every replica and every tier computes them alike from the
// state it holds:
//
//   - who writes a record: [Writer] and [MayWrite], from the owner region,
//     the region writing and the owner's [Management] (mode autonomous,
//     partial or full, epoch, forced, the acknowledged epoch); [Fenced]
//     says when a child's change must be kept as a conflict after a forced
//     takeover;
//   - where a write goes: [RouteWrite] answers [Local], [Forward] (to the
//     owner, as a command: [MayForward]) or [Refuse];
//   - what crosses a link: [Link.Admit] decides each change by [Direction]
//     (up: what was made and owned in the child's subtree; down: directives
//     for the child's branch, its own setting, commands forwarded into its
//     subtree, its records under full management), and [RegionCode.ChildOf]
//     who may be a link's other end.
//
// tiers knows no collections, records or storage: the domain (crm) reads
// the state, says what a record is ([Class], Write.Managed,
// Write.Standing), calls the rule and words the refusal. crm's write check
// (mayWrite, WriterOf), its forwarding (OpForward) and the API's routing
// call these functions, and so does the link mechanism (replication/link):
// every change a link carries is judged by [Link.Admit] (on the receiving
// node before it proposes the batch, and again by every replica that
// applies it), an uplink is taken from a [RegionCode.ChildOf] this region
// only, and a change of a child taken over by force is kept as a conflict
// when [Fenced] says so (crm.Fenced, through the link's Domain). What the
// link keeps of its own are the sender's filters of what it sends (the
// receiver's Admit judges it again) and a subtree test by string prefix.
// tiers does no I/O and imports only the standard library.
//
// The built-in name table covers Jiangsu: the province, its 13 cities, and
// the counties and districts of every city except 南通 (3206), whose codes
// changed in 2020 and are left out rather than guessed. [Name] answers ""
// for any code it does not know.
package tiers
