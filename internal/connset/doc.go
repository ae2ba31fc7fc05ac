// Package connset keeps the connections a component opened, so that it
// can end them all at once when it shuts down: a goroutine blocked on a
// peer that is paused or gone then returns at once instead of waiting out
// its I/O timeout.
package connset
