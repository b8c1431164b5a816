package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a stable numeric error code carried in replies. Error strings are
// for people; codes are the protocol.
type Code uint16

// WARNING: ONLY APPEND TO THIS LIST.
const (
	CodeOK              Code = 0
	CodeBadRequest      Code = 1 // the request is malformed or out of bounds
	CodeTooManySiblings Code = 2 // the write would exceed the table's sibling maximum
	CodeUnavailable     Code = 3 // the node is shutting down or not serving this range
	CodeInternal        Code = 4 // a storage error on the node
	CodeVersion         Code = 5 // unsupported protocol version
	CodeQuota           Code = 6 // the tenant's storage quota is exhausted
	CodeNotFound        Code = 7 // the item's table or tenant has been dropped
)

// codeInfo describes each code once; the gateway maps codes to HTTP status
// from this table only.
var codeInfo = map[Code]struct {
	Name   string
	Status int
}{
	CodeOK:              {"ok", 200},
	CodeBadRequest:      {"bad_request", 400},
	CodeTooManySiblings: {"too_many_siblings", 409},
	CodeUnavailable:     {"unavailable", 503},
	CodeInternal:        {"internal", 500},
	CodeVersion:         {"protocol_version", 500},
	CodeQuota:           {"quota_exceeded", 403},
	CodeNotFound:        {"not_found", 404},
}

func (c Code) String() string {
	if i, ok := codeInfo[c]; ok {
		return i.Name
	}
	return fmt.Sprintf("code(%d)", uint16(c))
}

// HTTPStatus is the status a gateway answers with when a replica's error
// decides the request.
func (c Code) HTTPStatus() int {
	if i, ok := codeInfo[c]; ok {
		return i.Status
	}
	return 500
}

// Error is a replica's error as carried in a reply.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// Errorf builds a wire error.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// CodeOf extracts the code of err: CodeOK for nil, CodeInternal for an
// error that carries none.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var we *Error
	if errors.As(err, &we) {
		return we.Code
	}
	return CodeInternal
}

// MessageOf is what a reply carrying err's code says: err's text without
// the code that the receiver's Error puts in front once more.
func MessageOf(err error) string {
	var we *Error
	if errors.As(err, &we) {
		return strings.Replace(err.Error(), we.Error(), we.Message, 1)
	}
	return err.Error()
}
