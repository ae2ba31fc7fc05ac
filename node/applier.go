package node

import (
	"encoding/json"
	"fmt"

	"gridcrm/crm"
	"gridcrm/replication"
)

// Entry types: the first byte of every raft command.
const (
	entryCommand byte = 1 // a crm.Command as JSON
)

// applier turns committed raft entries into domain writes.
type applier struct{}

// ApplyEntry implements replication.Applier. The answer is a crm.Result as
// JSON, identical on every replica.
func (applier) ApplyEntry(tx *replication.Txn, _ uint64, data []byte) []byte {
	var res crm.Result
	switch {
	case len(data) == 0:
		res.Err = &crm.Error{Code: "internal", Message: "empty raft entry"}
	case data[0] == entryCommand:
		var cmd crm.Command
		if err := json.Unmarshal(data[1:], &cmd); err != nil {
			res.Err = &crm.Error{Code: "internal", Message: fmt.Sprintf("undecodable command: %v", err)}
			break
		}
		if e := activeActor(tx, &cmd); e != nil {
			res.Err = e
			break
		}
		res = crm.Apply(tx, &cmd)
	default:
		res.Err = &crm.Error{Code: "internal", Message: fmt.Sprintf("unknown entry type %d", data[0])}
	}
	out, err := json.Marshal(res)
	if err != nil {
		out, _ = json.Marshal(crm.Result{Err: &crm.Error{Code: "internal", Message: err.Error()}})
	}
	return out
}

func encodeCommand(cmd *crm.Command) ([]byte, error) {
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	return append([]byte{entryCommand}, b...), nil
}

// activeActor refuses a command whose actor is a user that is disabled (or
// gone) in the state the command commits on: a disable takes effect for
// writes at the moment it commits, on every node alike.
func activeActor(tx *replication.Txn, cmd *crm.Command) *crm.Error {
	if cmd.Actor == "system" || cmd.Op == crm.OpInitSys {
		return nil
	}
	u, err := crm.UserByName(tx, cmd.Actor)
	if err != nil {
		return crm.AsError(err)
	}
	if u == nil || u.Disabled {
		return &crm.Error{Code: "forbidden", Message: "user " + cmd.Actor + " is disabled or no longer exists; nothing was written"}
	}
	return nil
}
