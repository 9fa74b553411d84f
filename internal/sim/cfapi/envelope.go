package cfapi

import (
	"encoding/json"
	"net/http"
)

// Message is one item of an envelope's errors or messages (PROTOCOL.md
// §1.2).
type Message struct {
	Code       int       `json:"code"`
	Message    string    `json:"message"`
	ErrorChain []Message `json:"error_chain,omitempty"`
}

// Envelope is Cloudflare's response envelope. Result is null on failure.
type Envelope struct {
	Success    bool      `json:"success"`
	Errors     []Message `json:"errors"`
	Messages   []any     `json:"messages"`
	Result     any       `json:"result"`
	ResultInfo any       `json:"result_info,omitempty"`
}

// Error codes. The documented or observed ones come first; the rest are
// the simulator's own choices where Cloudflare's code is not documented
// (PROTOCOL.md says which statuses and texts are known).
const (
	CodeRateLimited      = 971   // observed: 429 "Please wait and consider throttling your request speed"
	CodeMaxJobs          = 1004  // observed: 403 "creating a new job ... exceeded max jobs allowed"
	CodeInvalidHeaders   = 6003  // observed: 400 "Invalid request headers"
	CodeInvalidEmail     = 6102  // observed in error_chain: "Invalid format for X-Auth-Email header"
	CodeInvalidKey       = 6103  // observed in error_chain: "Invalid format for X-Auth-Key header"
	CodeInvalidAuthz     = 6111  // observed in error_chain: "Invalid format for Authorization header"
	CodeNoRoute          = 7003  // OA24: "No route for the URI"; observed: "Could not route to ..., perhaps your object identifier is invalid?"
	CodeMethodNotAllowed = 7001  // sim choice
	CodeAuthentication   = 10000 // observed: "Authentication error"
	CodeBadRequest       = 1001  // sim choice: invalid parameter or body
	CodeDestination      = 1002  // sim choice: destination validation or ownership challenge failed
	CodeNotFound         = 1003  // sim choice: no such Logpush job
	CodeRetentionOff     = 1005  // sim choice: Logpull with the retention flag off
)

const msgRateLimited = "Please wait and consider throttling your request speed"

// apiError is a failure a handler returns; the server renders it in the
// envelope.
type apiError struct {
	status int
	msg    Message
}

func (e *apiError) Error() string { return e.msg.Message }

func errorf(status, code int, msg string) *apiError {
	return &apiError{status: status, msg: Message{Code: code, Message: msg}}
}

func badRequest(msg string) *apiError { return errorf(http.StatusBadRequest, CodeBadRequest, msg) }

// authError is Cloudflare's 403 "Authentication error"; detail, when not
// empty, goes into the error_chain (the simulator names what is missing
// there; Cloudflare's own body stops at the message).
func authError(detail string) *apiError {
	e := errorf(http.StatusForbidden, CodeAuthentication, "Authentication error")
	if detail != "" {
		e.msg.ErrorChain = []Message{{Code: CodeAuthentication, Message: detail}}
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeResult(w http.ResponseWriter, result any, info any, messages ...any) {
	if messages == nil {
		messages = []any{}
	}
	writeJSON(w, http.StatusOK, Envelope{Success: true, Errors: []Message{}, Messages: messages, Result: result, ResultInfo: info})
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, Envelope{Success: false, Errors: []Message{e.msg}, Messages: []any{}, Result: nil})
}
