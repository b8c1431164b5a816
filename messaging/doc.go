// Package messaging is ringtable's only door to NATS: it starts or joins the
// embedded NATS server, connects clients with fail-over, names every
// subject, and routes the replies of fanned-out requests back to the round
// that sent them.
//
// It owns no domain logic: payloads are opaque bytes here (package wire
// gives them meaning), and nothing outside this package builds a subject
// string or calls nats.go directly.
package messaging
