package api

import (
	"fmt"
	"testing"
	"time"
)

// TestAnonLimiter_BoundsAllSourcesTogether: each source keeps its own
// bound a minute, and all of them together the node's; a new minute starts
// both again. Before the node's bound, a flood from many addresses, each
// under its own, was recorded event by event.
func TestAnonLimiter_BoundsAllSourcesTogether(t *testing.T) {
	var l anonLimiter
	start := time.Now().Unix() / 60
	allowed := 0
	for i := range 3 * anonAuditTotalPerMinute {
		if l.allow(fmt.Sprintf("10.0.%d.%d", i/250, i%250), nil) { // one event per source
			allowed++
		}
	}
	if time.Now().Unix()/60 != start {
		t.Skip("the minute turned during the events: the bounds count per minute")
	}
	if allowed != anonAuditTotalPerMinute {
		t.Fatalf("%d of %d events from as many sources recorded; want the node's bound, %d", allowed, 3*anonAuditTotalPerMinute, anonAuditTotalPerMinute)
	}
	var one anonLimiter
	allowed = 0
	for range 2 * anonAuditPerMinute {
		if one.allow("10.9.9.9", nil) {
			allowed++
		}
	}
	if time.Now().Unix()/60 == start && allowed != anonAuditPerMinute {
		t.Fatalf("one source: %d recorded; want its bound, %d", allowed, anonAuditPerMinute)
	}
	l.minute-- // the next minute
	if !l.allow("10.0.0.1", nil) {
		t.Fatal("a new minute does not start the node's bound again")
	}
}
