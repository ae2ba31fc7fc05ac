// Package jsoncodec decodes and encodes the JSON of plain Go structs (the
// records of package crm) without encoding/json's reflection-driven
// machinery, exactly as encoding/json would, or not at all: every function
// answers false where it would differ, and the caller then runs
// encoding/json. It is an exact shortcut for the write path, never a second
// definition of the format. Register a struct type once (at init); Decode,
// Append and Marshal then handle values of it.
package jsoncodec
