package cfapi

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// identity is who makes a request: a token or a global key.
type identity struct {
	token *Token // nil for a global key
	email string // the key's e-mail, or the token's user
	key   string // rate limit key
}

func (id *identity) has(p Permission) bool {
	return id.token == nil || slices.Contains(id.token.Permissions, p)
}

func (id *identity) permissionNames() string {
	if id.token == nil {
		return "all (Global API Key)"
	}
	if len(id.token.Permissions) == 0 {
		return "none"
	}
	names := make([]string, len(id.token.Permissions))
	for i, p := range id.token.Permissions {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

// canAccount reports whether the identity may use account resources.
func (id *identity) canAccount(account string) bool {
	t := id.token
	if t == nil {
		return true
	}
	if len(t.Accounts) == 0 {
		return len(t.Zones) == 0
	}
	return slices.Contains(t.Accounts, account)
}

// canZone reports whether the identity may use a zone of account.
func (id *identity) canZone(zone, account string) bool {
	t := id.token
	if t == nil || slices.Contains(t.Zones, zone) {
		return true
	}
	if len(t.Zones) > 0 {
		return false
	}
	return len(t.Accounts) == 0 || slices.Contains(t.Accounts, account)
}

// credentials reads the auth headers. It returns a 400 6003 error when a
// header is malformed, nil credentials (and no error) when there are none.
type credentials struct {
	bearer     string
	email, key string
}

func readCredentials(h http.Header) (*credentials, *apiError) {
	if authz, ok := h["Authorization"]; ok {
		v := strings.Join(authz, ",")
		tok, found := strings.CutPrefix(v, "Bearer ")
		if !found || !tokenRe.MatchString(tok) {
			return nil, headerError(Message{Code: CodeInvalidAuthz, Message: "Invalid format for Authorization header"})
		}
		return &credentials{bearer: tok}, nil
	}
	_, hasEmail := h["X-Auth-Email"]
	_, hasKey := h["X-Auth-Key"]
	if !hasEmail && !hasKey {
		return nil, nil
	}
	email, key := h.Get("X-Auth-Email"), h.Get("X-Auth-Key")
	var chain []Message
	if !emailRe.MatchString(email) {
		chain = append(chain, Message{Code: CodeInvalidEmail, Message: "Invalid format for X-Auth-Email header"})
	}
	if !globalKeyRe.MatchString(key) {
		chain = append(chain, Message{Code: CodeInvalidKey, Message: "Invalid format for X-Auth-Key header"})
	}
	if chain != nil {
		return nil, headerError(chain...)
	}
	return &credentials{email: email, key: key}, nil
}

func headerError(chain ...Message) *apiError {
	e := errorf(http.StatusBadRequest, CodeInvalidHeaders, "Invalid request headers")
	e.msg.ErrorChain = chain
	return e
}

// authenticate finds the token or key the credentials name.
func (s *Server) authenticate(c *credentials) (*identity, *apiError) {
	if c == nil {
		return nil, authError("no credentials: send Authorization: Bearer <token> or X-Auth-Email and X-Auth-Key")
	}
	if c.bearer != "" {
		for i := range s.cfg.Tokens {
			t := &s.cfg.Tokens[i]
			if subtle.ConstantTimeCompare([]byte(t.Value), []byte(c.bearer)) == 1 {
				if t.Disabled {
					return nil, authError("this API token is disabled")
				}
				return &identity{token: t, email: t.Email, key: "token:" + t.ID}, nil
			}
		}
		return nil, authError("invalid API token")
	}
	for _, k := range s.cfg.Keys {
		if strings.EqualFold(k.Email, c.email) && subtle.ConstantTimeCompare([]byte(k.Key), []byte(c.key)) == 1 {
			return &identity{email: k.Email, key: "user:" + strings.ToLower(k.Email)}, nil
		}
	}
	return nil, authError("unknown X-Auth-Email or invalid X-Auth-Key")
}
