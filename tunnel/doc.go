// Package tunnel joins the tiers' networks through WireGuard: a [Tunnel] is
// one node's device, and inter-tier traffic dials and listens only on its
// overlay addresses.
//
// Three modes, chosen by Config.Mode and built by [New]:
//
//   - netstack ([Netstack], the default): wireguard-go with gVisor's TCP/IP
//     stack inside the process. It needs no privileges and no TUN device;
//     the overlay addresses exist only inside the process, so only that
//     process's Dial and Listen reach them. It is CPU-bound (tens of MB/s
//     per stream) and configured with IpcSet.
//   - tun ([TUN]): wireguard-go on a real TUN device in the host's network
//     stack. It needs root (CAP_NET_ADMIN) and /dev/net/tun; without them
//     New returns [ErrTUNUnavailable] saying which. The device is configured
//     through wgctrl over its UAPI socket; the interface gets the overlay
//     address (/128) and a route for the prefix (or, where another device
//     in the namespace routes the prefix already, a /128 route per peer)
//     through rtnetlink, never by running `ip`.
//   - kernel ([Kernel]): a kernel link of type wireguard, created through
//     rtnetlink and configured through wgctrl over generic netlink, then
//     addressed like tun. It needs root and the wireguard module; where the
//     module is missing New returns [ErrKernelUnavailable]. The kernel
//     binds the UDP port on every address: ListenAddr's IP is not enforced.
//     It is tested only where the module exists (not on the machine this was
//     written on).
//
// In every mode the UDP endpoint is bound to the configured address only
// (netstack and tun: not every address, as conn.NewDefaultBind would), and
// wgctrl and `wg show NAME` read the device: netstack and tun through
// /var/run/wireguard/NAME.sock (type userspace; that needs write access to
// /var/run/wireguard, and NAME must be unique on the machine, because the
// directory is shared by every network namespace), kernel through generic
// netlink. Config.NoUAPI drops the socket for netstack; tun refuses it,
// since it is configured through the socket. In tun and kernel mode Dial and
// Listen use the kernel's TCP, bound to the overlay address and pinned to
// the WireGuard interface (SO_BINDTODEVICE), and Dial refuses addresses
// outside the overlay prefix, so traffic never takes the underlay.
//
// [Fake] is an in-memory Tunnel for tests, with a switch to cut a node's
// link. [GenerateKey] and [LoadKey] handle key files (0600, base64 like
// `wg genkey`); [Config.Validate] refuses bad configs naming the problem.
//
// What it does not do: peers are fixed at Up; there is no reconfiguration.
// The package does not derive peers from the tier tree: the caller (node/)
// passes them in Config.Peers. The netstack and tun UDP bind moves one
// packet per system call (no batching, no GSO), which is enough for
// netstack but leaves TUN throughput below what wireguard-go's own bind
// reaches. Taking a tun or kernel interface down by hand (`ip link set
// NAME down`) stops it, and Linux then drops its IPv6 overlay address
// (keep_addr_on_down is off by default); bringing it up again does not
// restore the address: restart the node.
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
