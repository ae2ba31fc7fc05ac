// Package pki is the certificate half of node identity: the province's
// certificate authority, node certificates that name region and node, a
// versioned revocation list, and the mutual-TLS configurations and pure
// authorisation rules node-to-node connections are to use.
//
// An identity is one URI SAN, the region's ancestry then the node id:
// gridcrm://32/3207/320722/dh1 (node dh1 of county 320722), gridcrm://32/gy1
// (a province node). ParseIdentity is strict (each region element is the
// next one's parent per tiers' rules; no escapes, ports or queries) and a
// node id is never digits only, so the last element cannot be mistaken for
// a region. CAs carry the same scheme without a node: the root
// gridcrm://32, an intermediate gridcrm://32/3207.
//
// Trust: one self-signed root per province (ECDSA P-256, ten years, kept
// offline), optional per-region intermediates (path length 0), and node
// certificates (90 days, server and client auth, the URI SAN plus the
// node's DNS and IP SANs as given). Each CA signs a revocation list (an
// X.509 CRL with a number); a node holds the current list of every CA and
// refuses a lower number, so an old list cannot be replayed to un-revoke a
// certificate, and refuses every chain through a CA whose list is missing
// or past its next update (fail closed).
//
// ServerConfig and ClientConfig build *tls.Config: TLS 1.3 only, client
// certificates required, chains verified by crypto/x509 against the root
// (and, when dialling, the name dialled), then checked for revocation and
// region scope (an intermediate for 3207 vouches only for 3207's subtree),
// then an optional Authorizer. PeerIdentity names the peer of a verified
// connection; Authorize and AuthorizeDial say what a peer may call: raft,
// propose, read index, membership and snapshots within a region
// (SameRegion); uplink and downlink from a region directly below
// (IsChildRegion).
//
// Authority manages a CA directory on disk for `gridcrm cert`: files 0600,
// directories 0700, an index of everything issued, and an exclusive lock
// per operation. Loaders refuse key files readable by group or others.
//
// Nodes dial each other with DialConfig: the server is verified by the
// identity its certificate names, checked by AuthorizeDial, not by the
// address dialled (raft addresses, tunnel overlay addresses and loopback
// ports need not be in any SAN). replication.Security wires these
// configurations into every node-to-node connection.
//
// What pki is not: it does not distribute
// certificates or lists to nodes, does not renew automatically, and does
// not speak OCSP or ACME. Nothing here reads flags. Tested by table tests
// for identities and authorisation, in-memory handshakes (same root,
// another root, expired, revoked, wrong region, foreign intermediate, stale
// list) and fuzz targets for every decoder, whose seeds run under go test.
package pki
