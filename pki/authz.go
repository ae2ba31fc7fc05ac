package pki

import (
	"fmt"

	"gridcrm/tiers"
)

// SameRegion reports whether a and b are valid identities of the same
// region: what raft, membership, propose, read index, snapshots and
// forwarding to the leader require of a peer.
func SameRegion(a, b Identity) bool {
	return a.Valid() && b.Valid() && a.Region == b.Region
}

// IsChildRegion reports whether child is a valid identity of a region
// directly below parent's region (320722 below 3207, 3207 below 32; not
// 320722 below 32): what a parent requires of a node that ships an uplink
// or pulls a downlink, and what that node requires of the parent it dials.
func IsChildRegion(parent, child Identity) bool {
	return parent.Valid() && child.Valid() && child.Region.Parent() == parent.Region
}

// Service is a kind of node-to-node call on the internal listener. Each has
// one rule (Authorize) deciding which peers may make it.
type Service string

// The services of the internal listener.
const (
	ServiceRaft       Service = "raft"       // raft RPCs: append entries, votes, install snapshot
	ServicePropose    Service = "propose"    // a follower forwards a write to its leader
	ServiceReadIndex  Service = "read-index" // a follower asks the leader for a read barrier
	ServiceMembership Service = "membership" // join, leave, promote within the region
	ServiceSnapshot   Service = "snapshot"   // state snapshot streaming within the region
	ServiceUplink     Service = "uplink"     // a child region's leader ships its change feed up
	ServiceDownlink   Service = "downlink"   // a child region's leader pulls directives down
)

// sameRegionServices are the services only a node's own region may call.
var sameRegionServices = map[Service]bool{
	ServiceRaft: true, ServicePropose: true, ServiceReadIndex: true,
	ServiceMembership: true, ServiceSnapshot: true,
}

// linkServices are the services a child region's nodes call on the parent.
var linkServices = map[Service]bool{ServiceUplink: true, ServiceDownlink: true}

// Authorize decides an inbound call: may peer (verified, from PeerIdentity)
// call svc on self? Raft, propose, read index, membership and snapshots
// need SameRegion(self, peer); uplink and downlink need
// IsChildRegion(self, peer). It returns nil or an error wrapping
// ErrForbidden that names both nodes and the rule. An unknown service is
// refused.
func Authorize(svc Service, self, peer Identity) error {
	switch {
	case !self.Valid():
		return fmt.Errorf("%w: this node's identity %s is invalid", ErrForbidden, self)
	case !peer.Valid():
		return fmt.Errorf("%w: peer identity %s is invalid", ErrForbidden, peer)
	case sameRegionServices[svc]:
		if !SameRegion(self, peer) {
			return fmt.Errorf("%w: %s from %s refused by %s: only nodes of region %s may call it", ErrForbidden, svc, peer.Short(), self.Short(), self.Region)
		}
	case linkServices[svc]:
		if !IsChildRegion(self, peer) {
			return fmt.Errorf("%w: %s from %s refused by %s: only nodes of a region directly below %s may call it", ErrForbidden, svc, peer.Short(), self.Short(), self.Region)
		}
	default:
		return fmt.Errorf("%w: unknown service %q from %s", ErrForbidden, svc, peer.Short())
	}
	return nil
}

// AuthorizeDial decides an outbound call: may self send svc to peer, the
// node that answered the dial? Same-region services need SameRegion;
// uplink and downlink need peer to be self's parent region
// (IsChildRegion(peer, self)), so a child never ships its feed to, or takes
// directives from, a node that is not its parent. Errors wrap ErrForbidden.
func AuthorizeDial(svc Service, self, peer Identity) error {
	switch {
	case !self.Valid():
		return fmt.Errorf("%w: this node's identity %s is invalid", ErrForbidden, self)
	case !peer.Valid():
		return fmt.Errorf("%w: peer identity %s is invalid", ErrForbidden, peer)
	case sameRegionServices[svc]:
		if !SameRegion(self, peer) {
			return fmt.Errorf("%w: %s to %s refused by %s: the peer is not of region %s", ErrForbidden, svc, peer.Short(), self.Short(), self.Region)
		}
	case linkServices[svc] && self.Region.Tier() == tiers.Province:
		return fmt.Errorf("%w: %s to %s refused by %s: a province has no parent region", ErrForbidden, svc, peer.Short(), self.Short())
	case linkServices[svc]:
		if !IsChildRegion(peer, self) {
			return fmt.Errorf("%w: %s to %s refused by %s: the peer is not of the parent region %s", ErrForbidden, svc, peer.Short(), self.Short(), self.Region.Parent())
		}
	default:
		return fmt.Errorf("%w: unknown service %q to %s", ErrForbidden, svc, peer.Short())
	}
	return nil
}
