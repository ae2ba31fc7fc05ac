// Package keysort sorts byte-string keys in bytes.Compare order faster
// than a comparison sort when the keys share long prefixes, as a state
// machine's keys do (x/_q/<gram>\x01<region><id>, r/customers/<id>…): a
// command's writes are sorted before they reach Pebble, and an import of
// 10,000 customers writes ~750,000 keys.
//
// It sorts 8 bytes at a time: each key's next 8 bytes, loaded once as a
// big-endian integer into a flat array beside the key's index, are
// compared as integers (no pointer chasing, no byte loop), and only keys
// whose 8 bytes tie are loaded again, 8 bytes further on. A comparison sort
// compares whole keys ~log2(n) times each, from their first byte and at
// random places in memory; here each key is read about once per 8 bytes of
// prefix it shares with another.
//
// What it is not: not a general string sort (no stability: the keys are
// assumed distinct, and equal keys end in no particular order), and it
// does not allocate less than n entries of 16 bytes.
package keysort
