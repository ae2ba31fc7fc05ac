package replication

import (
	"github.com/hashicorp/raft"

	"gridcrm/store"
)

// privateSnapshots is raft's file snapshot store with private files: raft
// creates its directories 0755 and files 0644 (less the umask), and a
// snapshot holds the whole state, token keys and password hashes
// included. The directory is tightened when the store opens and again
// after every snapshot is written (store.SecureDir: directories 0700,
// files 0600), so a node run with any umask keeps them private.
type privateSnapshots struct {
	*raft.FileSnapshotStore
	dir string
}

func newPrivateSnapshots(dir string, fs *raft.FileSnapshotStore) (*privateSnapshots, error) {
	if err := store.SecureDir(dir); err != nil {
		return nil, err
	}
	return &privateSnapshots{FileSnapshotStore: fs, dir: dir}, nil
}

// Create implements raft.SnapshotStore.
func (p *privateSnapshots) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration, configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	s, err := p.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	_ = store.SecureDir(p.dir) // the new snapshot's temporary directory
	return &privateSink{SnapshotSink: s, p: p}, nil
}

type privateSink struct {
	raft.SnapshotSink
	p *privateSnapshots
}

// Close implements raft.SnapshotSink: the snapshot is renamed into place,
// then made private.
func (s *privateSink) Close() error {
	err := s.SnapshotSink.Close()
	if serr := store.SecureDir(s.p.dir); err == nil {
		err = serr
	}
	return err
}
