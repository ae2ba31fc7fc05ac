// Package link is the inter-tier link protocol: how a region's changes roll
// up to its parent and how what a parent has authority over comes down to
// its children, over the regions' own raft logs.
//
// Each region keeps a change feed (replication.AppendChange; FeedTxn feeds
// every record write of a batch). A child's leader ships its feed to the
// parent (the uplink: POST /internal/v1/uplink, proposed there as an
// EntryUplink) and pulls from the parent's feed what goes down to its
// branch (the downlink: POST /internal/v1/downlink, proposed here as an
// EntryDownlink). Applier applies both on every replica: idempotently
// (changes at or below the link's cursor are skipped), refusing a batch
// that starts past the cursor as a gap (the sender resends from the
// cursor), moving the cursor in the same batch as the changes, and, when a
// feed no longer reaches back to a cursor, by a snapshot resync sent in
// parts (ResyncPart). A cursor counts in one feed: each feed has an epoch
// (replication.FeedEpoch, new when a region is rebuilt or restored), every
// batch and pull carries the sender's, the receiver keeps it with the
// cursor, and a batch or pull of another epoch is answered by a resync
// (CodeEpoch up, a snapshot down), as is a downlink cursor past the
// parent's head once a read barrier confirms it. The feed is kept while the parent or a child still
// needs it, within retention bounds (retention.go). Service runs the loops
// and the parent-side handlers and reports each link's Status; Metrics
// counts traffic and refusals (gridcrm_link_*).
//
// The rules of what may cross a link (rules.go) are checked twice with the
// same functions: by the receiving node before it proposes a batch, and by
// every replica when it applies it, so a committed change that breaks them
// is rejected alike everywhere (nothing written, counted, logged) and the
// link goes on. The rules are the tier rules (tiers.Link.Admit for each
// change, tiers.RegionCode.ChildOf for who sends uplinks); rules.go keeps
// the key and value checks, the reasons and the messages. Content never
// panics the applier; only a failing store does. The keys the link keeps
// (cursors, heads, freshness, resync progress) are named by store/keyspace.
//
// What link is not: it does not know the domain's records. Validating a
// record, applying a replica write, management acknowledgements, forwarded
// commands and aggregates are the Domain's (crm implements it; node wires
// it). It does not build its transport: the wiring hands it an
// *http.Client (plain TCP, tunnel or TLS) and an Authenticate hook that
// decides whether a request may speak for the child region it claims.
// link never imports crm or api; its scenario tests (testdata/*.txt) run
// on a real Pebble store with a small fake Domain and no cluster.
package link
