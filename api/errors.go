package api

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"gridcrm/crm"
	"gridcrm/replication"
)

// Error codes the API adds to crm's.
const (
	codeUnauthenticated = "unauthenticated" // no or malformed Authorization header
	codeInvalidToken    = "invalid_token"   // signature, user or region does not check out
	codeTokenExpired    = "token_expired"
	codeForbidden       = "forbidden" // the role may not do this
	codeBadLogin        = "bad_credentials"
	codeUnavailable     = "unavailable"     // not applied (no leader, timeout, closed): safe to retry
	codeOutcomeUnknown  = "outcome_unknown" // sent for commit, no answer: it may have been applied
	codeUnknownRoute    = "no_route"
	codeInternal        = "internal"
	codeUnsupported     = "unsupported_media_type"
	codeThrottled       = "too_many_attempts" // logins too soon after failures (Retry-After)
	codeInsufficient    = "insufficient_data" // the data held cannot answer: too short a history, no grades stored (analytics.go)
	codeTooManyImports  = "too_many_imports"  // the node runs Config.MaxImports already (Retry-After)
	codeTimeout         = "request_timeout"   // the body did not arrive within Config.BodyTimeout (or ImportTimeout)
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	crm.CodeInvalid:     http.StatusBadRequest,
	crm.CodeNotFound:    http.StatusNotFound,
	crm.CodeConflict:    http.StatusConflict,
	crm.CodeDuplicate:   http.StatusConflict,
	crm.CodeWrongOwner:  http.StatusForbidden,
	crm.CodeReference:   http.StatusUnprocessableEntity,
	crm.CodeInUse:       http.StatusConflict,
	crm.CodeTooLarge:    http.StatusRequestEntityTooLarge,
	crm.CodeTransition:  http.StatusConflict,
	codeUnauthenticated: http.StatusUnauthorized,
	codeInvalidToken:    http.StatusUnauthorized,
	codeTokenExpired:    http.StatusUnauthorized,
	codeBadLogin:        http.StatusUnauthorized,
	codeForbidden:       http.StatusForbidden,
	codeUnavailable:     http.StatusServiceUnavailable,
	codeOutcomeUnknown:  http.StatusGatewayTimeout,
	codeUnknownRoute:    http.StatusNotFound,
	codeUnsupported:     http.StatusUnsupportedMediaType,
	codeInternal:        http.StatusInternalServerError,
	codeThrottled:       http.StatusTooManyRequests,
	codeTooManyImports:  http.StatusTooManyRequests,
	codeTimeout:         http.StatusRequestTimeout,
	crm.CodeLocked:      http.StatusTooManyRequests,
	codeInsufficient:    http.StatusUnprocessableEntity,
}

// errorBody is the JSON every error answers: {"error": {...}}.
type errorBody struct {
	Error *crm.Error `json:"error"`
}

// fail writes err as the one error shape and aborts the request.
func fail(c *gin.Context, err error) {
	e := toAPIError(err)
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	noteOutcome(c, e.Code) // audit.go
	c.AbortWithStatusJSON(status, errorBody{Error: e})
}

// failWrite is fail for a write of record id (an import: of records ids):
// an unknown outcome names the id (an import's first, and all its ids), so
// that the client can read whether the write was applied before it
// retries.
func failWrite(c *gin.Context, id string, err error, ids ...string) {
	if errors.Is(err, replication.ErrUnknownOutcome) {
		e := toAPIError(err)
		if id == "" && len(ids) > 0 {
			id = ids[0]
		}
		e.ID, e.IDs = id, ids
		err = e
	}
	fail(c, err)
}

// joinError names the address of a node the region's leader could not
// reach when asked to add it (400 on addr: the request must change, not be
// retried as it is); other errors are fail's.
func joinError(id, addr string, err error) error {
	if errors.Is(err, replication.ErrPeerUnreachable) {
		return apiErr(crm.CodeInvalid, "addr", fmt.Sprintf("node %q does not answer at %s; nothing was changed: %v", id, addr, err))
	}
	return err
}

func toAPIError(err error) *crm.Error {
	var e *crm.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, replication.ErrUnknownOutcome):
		return &crm.Error{Code: codeOutcomeUnknown, Message: err.Error() +
			"; read the record back (GET it, or look it up by its unique key) before retrying"}
	case replication.NotApplied(err):
		return &crm.Error{Code: codeUnavailable, Message: err.Error() + "; nothing was applied: safe to retry shortly"}
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &crm.Error{Code: crm.CodeTooLarge, Message: "the request body is larger than the limit of " + byteSize(mb.Limit)}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &crm.Error{Code: codeTimeout, Message: "the request body did not arrive within the server's deadline for a body (an import's is longer); send it at once, or split an import"}
	}
	return &crm.Error{Code: codeInternal, Message: err.Error()}
}

func apiErr(code, field, msg string) *crm.Error {
	return &crm.Error{Code: code, Field: field, Message: msg}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// unencodable answers 500 naming the cause when a handler's answer could
// not be encoded (gin's Render records the error and writes nothing, so
// the client would get the handler's 200 with an empty body; a NaN in a
// computed figure did that once).
func unencodable(c *gin.Context) {
	c.Next()
	if c.Writer.Written() || len(c.Errors) == 0 {
		return
	}
	fail(c, apiErr(codeInternal, "", "the answer could not be encoded: "+c.Errors.Last().Error()))
}
