package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"gridcrm/crm"
)

// validateBootstrap checks the admin password before anything starts: a
// password the API would refuse must stop the node here, with the setting
// named, not leave initSystem retrying for ever.
func (c *Config) validateBootstrap() error {
	if c.AdminPassword == "" {
		return nil
	}
	if e := crm.CheckPassword("admin", c.AdminPassword); e != nil {
		from := c.AdminPasswordFrom
		if from == "" {
			from = "admin_password"
		}
		return fmt.Errorf("node: %s: the admin password %s", from, e.Message)
	}
	return nil
}

// followerPause is how long a follower with an admin password leaves the
// bootstrap admin to the leader before proposing it itself.
const followerPause = 3 * time.Second

// initSystem makes sure the region has a token signing key (proposed by the
// leader, once the local replica lacks it) and, when an admin password is
// configured and the region has no user at all, user admin (any node may
// propose it; Apply creates it only in a region without users, so a
// password given again later changes nothing). It retries with a growing
// pause on errors, and ends when both are settled or the node stops.
func (n *Node) initSystem() {
	pw, pause := n.cfg.AdminPassword, 100*time.Millisecond
	var keySeen time.Time
	retry := func(what string, err error) {
		n.log.Warn("node: "+what, "err", err, "retry_in", pause)
		pause = min(2*pause, 5*time.Second)
	}
	for {
		select {
		case <-n.stop:
			return
		case <-time.After(pause):
		}
		if key, _ := crm.System(n.group.Reader(), "token_key"); key == nil {
			if !n.group.IsLeader() {
				continue // the leader makes it
			}
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			body, _ := json.Marshal(hex.EncodeToString(key))
			ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
			_, err := n.Propose(ctx, &crm.Command{Op: crm.OpInitSys, ID: "token_key", Body: body, Region: n.cfg.Region, Actor: crm.SystemActor, Time: time.Now().UTC()})
			cancel()
			if err != nil {
				retry("initialise token key", err)
			}
			continue
		}
		if keySeen.IsZero() {
			keySeen = time.Now()
		}
		if pw != "" && !n.group.IsLeader() && time.Since(keySeen) < followerPause {
			continue // the leader most likely has the password too: let it hash and propose first
		}
		if pw == "" {
			if has, err := crm.AnyUser(n.group.Reader()); err == nil && !has && n.group.IsLeader() {
				n.log.Warn("node: the region has no users and no admin password was given: restart a node with GRIDCRM_ADMIN_PASSWORD or admin_password_file to create user admin")
			}
			return
		}
		ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		created, err := n.api.BootstrapAdmin(ctx, pw)
		cancel()
		if err != nil {
			retry("create the bootstrap admin", err)
			continue
		}
		if created {
			n.log.Info("node: created user admin, the region's first user")
		} else {
			n.log.Info("node: the region has users: the admin password given is not used (change passwords through the API)")
		}
		return
	}
}
