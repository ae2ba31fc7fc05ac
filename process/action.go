package process

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"gridcrm/crm"
	"gridcrm/store/keyspace"
)

// actionTime is the time an action took place: the one the client gives
// (not after the command's time, not before after), else the command's.
func actionTime(at *time.Time, cmd *crm.Command, after time.Time, field string) (time.Time, *crm.Error) {
	if at == nil || at.IsZero() {
		if cmd.Time.Before(after) {
			return time.Time{}, crm.Invalid(field, "the command's time %s is before %s", cmd.Time.Format(time.RFC3339), after.Format(time.RFC3339))
		}
		return cmd.Time, nil
	}
	t := at.UTC()
	if t.After(cmd.Time) {
		return time.Time{}, crm.Invalid(field, "%s is in the future", t.Format(time.RFC3339))
	}
	if t.Before(after) {
		return time.Time{}, crm.Invalid(field, "%s is before %s, when the previous step happened", t.Format(time.RFC3339), after.Format(time.RFC3339))
	}
	return t, nil
}

// sameJSON reports whether a and b marshal alike.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func tp(t time.Time) *time.Time { return &t }

func trim(s *string) { *s = strings.TrimSpace(*s) }

// recordKey is a record's key in the store.
func recordKey(coll, id string) []byte { return []byte(keyspace.Record(coll, id)) }
