package crm

import "gridcrm/internal/jsoncodec"

// The write path decodes and encodes records with the exact shortcut of
// package internal/jsoncodec where it can (each kind's records in
// register, Meta here), and with encoding/json where it cannot.

func init() { registerCodec(&Meta{}) }

// registerCodec registers v's type with the codec (see jsoncodec.Register).
func registerCodec(v any) { jsoncodec.Register(v) }

// decodeFast decodes data into v when the codec can (see jsoncodec.Decode);
// it leaves v as it was when it answers false.
func decodeFast(data []byte, v any, lenient bool) bool { return jsoncodec.Decode(data, v, lenient) }

// marshalRecord is json.Marshal(rec).
func marshalRecord(rec Record) ([]byte, error) { return jsoncodec.Marshal(rec) }
