package crm

import "maps"

// MemTxnMap answers tx's keys and values, for FuzzApply (fuzz_apply_test.go).
func MemTxnMap(tx *MemTxn) map[string][]byte { return tx.m }

// CloneMemTxn answers a copy of tx.
func CloneMemTxn(tx *MemTxn) *MemTxn { return &MemTxn{m: maps.Clone(tx.m)} }
