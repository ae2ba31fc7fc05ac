//go:build !unix

package pki

// lockDir does not lock where flock is unavailable: run one `gridcrm cert`
// command at a time on a CA directory there.
func lockDir(string) (func(), error) { return func() {}, nil }
