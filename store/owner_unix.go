//go:build unix

package store

import (
	"fmt"
	"os"
	"syscall"
)

// checkOwner refuses path unless this process's effective user owns it.
func checkOwner(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Errorf("%w: %s is owned by uid %d, not by this process (uid %d); chown it to the user gridcrm runs as, or use another data directory", ErrUnsafeDir, path, st.Uid, euid)
	}
	return nil
}
