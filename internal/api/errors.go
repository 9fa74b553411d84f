package api

import (
	"errors"

	"github.com/flarehose/flarehose/internal/search"
)

// IsQueryError reports whether an error from a search.Engine means the
// query is at fault (syntax error, a non-numeric value for a numeric field)
// rather than the store. Such errors are answered with 400 and shown under
// the search box.
//
// The search package marks every such error: errors.Is(err,
// search.ErrInvalidQuery) (its *ParseError among them). A *ParamError, or
// any error with a BadRequest() bool method returning true (a *StatusError
// relayed from another flarehose server), counts too. Everything else (I/O,
// database failures) is the server's fault.
func IsQueryError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, search.ErrInvalidQuery) {
		return true
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		return true
	}
	var br interface{ BadRequest() bool }
	return errors.As(err, &br) && br.BadRequest()
}
