package main

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/ringtable/ringtable/messaging"
)

// maxBatch caps the writes committed together, as storagenode/engine does.
const maxBatch = 1024

// replica is one Badger store serving puts through a group-committing
// writer and gets on its subscription's goroutine, as a storage node
// answers gets while they are fast.
type replica struct {
	conn   *messaging.Conn
	db     *badger.DB
	writes chan *messaging.Msg
	done   chan struct{}
}

// startReplica serves replica id from a Badger store in dir. The replica
// owns conn and closes it.
func startReplica(conn *messaging.Conn, id, dir string) (*replica, error) {
	// The options of storagenode/engine.Open with Sync on.
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(16 << 20).
		WithNumLevelZeroTables(10).
		WithNumLevelZeroTablesStall(30).
		WithBaseTableSize(16 << 20).
		WithBlockCacheSize(0).
		WithValueLogFileSize(256 << 20).
		WithLogger(nil).
		WithMetricsEnabled(false).
		WithCompression(options.None)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, err
	}
	r := &replica{conn: conn, db: db, writes: make(chan *messaging.Msg, maxBatch*4), done: make(chan struct{})}
	go r.writer()
	s := conn.Subjects()
	for op, h := range map[string]func(*messaging.Msg){"put": func(m *messaging.Msg) { r.writes <- m }, "get": r.get} {
		if _, err := conn.Subscribe(s.NodeOp(id, op), h); err != nil {
			r.close()
			return nil, err
		}
	}
	return r, nil
}

// writer commits whatever queued while the previous commit was syncing,
// in one transaction, and acknowledges each write only after the sync.
func (r *replica) writer() {
	defer close(r.done)
	batch := make([]*messaging.Msg, 0, maxBatch)
	for m := range r.writes {
		batch = append(batch[:0], m)
	collect:
		for len(batch) < maxBatch {
			select {
			case m, ok := <-r.writes:
				if !ok {
					break collect
				}
				batch = append(batch, m)
			default:
				break collect
			}
		}
		reply := []byte{'k'}
		if err := r.commit(batch); err != nil {
			reply = []byte(err.Error())
		}
		for _, m := range batch {
			_ = r.conn.Respond(m, reply)
		}
	}
}

func (r *replica) commit(batch []*messaging.Msg) error {
	txn := r.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, m := range batch {
		p := m.Data
		if len(p) < 2 {
			return errors.New("bad put")
		}
		n := 2 + (int(p[0])<<8 | int(p[1]))
		if len(p) < n {
			return errors.New("bad put")
		}
		err := txn.Set(p[2:n], p[n:])
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return err
			}
			txn = r.db.NewTransaction(true)
			err = txn.Set(p[2:n], p[n:])
		}
		if err != nil {
			return err
		}
	}
	return txn.Commit()
}

func (r *replica) get(m *messaging.Msg) {
	var v []byte
	_ = r.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(m.Data)
		if err == nil {
			v, err = it.ValueCopy(nil)
		}
		return err
	})
	_ = r.conn.Respond(m, v)
}

// close drains the connection first, so no handler is left to send on the
// channels it then closes; the conn is the replica's from start on.
func (r *replica) close() {
	r.conn.Close()
	close(r.writes)
	<-r.done
	_ = r.db.Close()
}
