// Package tunnel joins the tiers' networks through WireGuard: a [Tunnel] is
// one node's device, and inter-tier traffic dials and listens only on its
// overlay addresses.
//
// What works: the netstack mode ([Netstack], via [New] with [ModeNetstack]):
// wireguard-go with gVisor's TCP/IP stack inside the process, needing no
// privileges and no TUN device. Its UDP endpoint is bound to the configured
// address only (not every address, as conn.NewDefaultBind would). Unless
// Config.NoUAPI is set it exposes /var/run/wireguard/NAME.sock, so
// wgctrl and `wg show NAME` read it (type userspace); that needs write
// access to /var/run/wireguard, and NAME must be unique on the machine.
// [Fake] is an in-memory Tunnel for tests, with a switch to cut a node's link.
// [GenerateKey] and [LoadKey] handle key files (0600, base64 like
// `wg genkey`); [Config.Validate] refuses bad configs naming the problem.
//
// What does not work yet: the userspace TUN mode returns [ErrNotImplemented];
// the kernel mode detects a missing wireguard module and returns
// [ErrKernelUnavailable], and where the module exists it still returns
// [ErrNotImplemented] (creating the link needs rtnetlink). Peers are fixed at
// Up; there is no reconfiguration yet. The package does not derive peers from
// the tier tree: the caller (node/) passes them in Config.Peers. The UDP bind
// moves one packet per system call, which is enough for netstack (CPU-bound
// in gVisor) but not tuned.
//
// # Overlay addresses
//
// Every node's address is derived by [OverlayAddr] from its region code
// (GB/T 2260, 2, 4 or 6 digits) and its node index (1..9999) inside a prefix
// of at most /80, by default [DefaultPrefix] fd47:7269:6463::/48 (a ULA whose
// global ID spells "Gridc"; fixed rather than random so addresses read the
// same everywhere). The low 48 bits are three 16-bit groups whose hex digits
// are the decimal digits (BCD): the region code right-padded with zeros to 6
// digits gives digits 1–4 and 5–6, then the index, zero-padded to 4:
//
//	320722 node 2  →  fd47:7269:6463::3207:22:2
//	3207   node 1  →  fd47:7269:6463::3207:0:1
//	32     node 3  →  fd47:7269:6463::3200:0:3
//
// Bits between the prefix and the low 48 are zero. The scheme is one to one
// on valid codes: a valid code never has 00 as its city or county part, so
// right-padding cannot make two codes equal, and BCD is one to one.
package tunnel
