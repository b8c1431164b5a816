package main

import (
	"errors"

	"github.com/dgraph-io/badger/v4"

	"github.com/ringtable/ringtable/messaging"
	"github.com/ringtable/ringtable/storagenode/engine"
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
	// The store a node with this id runs (its memtable size staggered by
	// the id, so that the replicas do not all flush at once), with
	// Badger's own syncs on each commit in place of the engine's redo log.
	opts := engine.BadgerOptions(engine.DefaultConfig(dir, id)).
		WithSyncWrites(true).
		WithLogger(nil)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, err
	}
	r := &replica{conn: conn, db: db, writes: make(chan *messaging.Msg, maxBatch*4), done: make(chan struct{})}
	go r.writer()
	s := conn.Subjects()
	put := func(m *messaging.Msg) {
		if len(m.Data) >= roundLen { // a request starts with its round's number
			r.writes <- m
		}
	}
	for op, h := range map[string]func(*messaging.Msg){"put": put, "get": r.get} {
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
			_ = r.conn.Respond(m, append(m.Data[:roundLen:roundLen], reply...)) // the round's number, then the answer
		}
	}
}

func (r *replica) commit(batch []*messaging.Msg) error {
	txn := r.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, m := range batch {
		p := m.Data[roundLen:]
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

// get answers the round's number, then the value (nothing more when the
// key is absent).
func (r *replica) get(m *messaging.Msg) {
	if len(m.Data) < roundLen {
		return
	}
	v := m.Data[:roundLen:roundLen]
	_ = r.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(m.Data[roundLen:])
		if err == nil {
			err = it.Value(func(val []byte) error { v = append(v, val...); return nil })
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
