// Package messaging is ringtable's only door to NATS: it starts or joins the
// embedded NATS server, connects clients with fail-over, names every
// subject, and routes the replies of fanned-out requests back to the round
// that sent them.
//
// It owns no domain logic: payloads are opaque bytes here (package wire
// gives them meaning), and nothing outside this package builds a subject
// string or calls nats.go directly.
//
// It also keeps change feeds on JetStream (feeds.go: the stream, its
// publishing and reading) and isolates tenants on the bus: with a cluster
// secret, servers run in operator mode, ringtable's own traffic lives in
// an internal account, and each tenant given feed credentials gets an
// account into which only its own feed is exported (auth.go explains the
// mechanism; feedcreds.go issues and revokes the credentials).
package messaging
