package cfapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseAuditTime reads a since/before value: a date (UTC midnight) or RFC
// 3339.
func parseAuditTime(name, v string) (time.Time, *apiError) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, badRequest(name + ": want a date (2006-01-02) or an RFC 3339 time, got " + strconv.Quote(v))
}

func parseInt(name, v string, lo, hi int) (int, *apiError) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		if hi == maxInt {
			return 0, badRequest(name + " must be an integer >= " + strconv.Itoa(lo))
		}
		return 0, badRequest(name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}

const maxInt = int(^uint(0) >> 1)

func parseDirection(v string, present bool) (bool, *apiError) {
	switch {
	case !present || v == "desc":
		return true, nil
	case v == "asc":
		return false, nil
	}
	return false, badRequest("direction must be asc or desc")
}

// handleAuditV1: GET /accounts/{id}/audit_logs (PROTOCOL.md §5.1).
func (s *Server) handleAuditV1(c *request) *apiError {
	q := c.r.URL.Query()
	var (
		since, before time.Time
		err           *apiError
		page, perPage = 1, 100
	)
	if v, ok := c.query("since"); ok {
		if since, err = parseAuditTime("since", v); err != nil {
			return err
		}
	}
	if v, ok := c.query("before"); ok {
		if before, err = parseAuditTime("before", v); err != nil {
			return err
		}
	}
	if v, ok := c.query("page"); ok {
		if page, err = parseInt("page", v, 1, maxInt); err != nil {
			return err
		}
	}
	if v, ok := c.query("per_page"); ok {
		if perPage, err = parseInt("per_page", v, 1, 1000); err != nil {
			return err
		}
	}
	dirV, dirOK := c.query("direction")
	desc, err := parseDirection(dirV, dirOK)
	if err != nil {
		return err
	}
	hideUser := false
	if v, ok := c.query("hide_user_logs"); ok {
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return badRequest("hide_user_logs must be true or false")
		}
		hideUser = b
	}
	if v, _ := c.query("export"); v == "true" {
		return badRequest("export (CSV) is not supported by the simulator")
	}
	var actorNet netip.Prefix
	if v, ok := c.query("actor.ip"); ok && v != "" {
		if p, perr := netip.ParsePrefix(v); perr == nil {
			actorNet = p.Masked()
		} else if a, perr := netip.ParseAddr(v); perr == nil {
			actorNet = netip.PrefixFrom(a, a.BitLen())
		} else {
			return badRequest("actor.ip must be an IP address or a CIDR range")
		}
	}
	id, actionType, actorEmail, zoneName := q.Get("id"), q.Get("action.type"), q.Get("actor.email"), q.Get("zone.name")

	var matched []*auditEvent
	for _, e := range s.audit.visible(c.now) {
		switch {
		case !since.IsZero() && e.when.Before(since),
			!before.IsZero() && !e.when.Before(before),
			id != "" && e.ID != id,
			actionType != "" && e.ActionType != actionType,
			actorEmail != "" && !strings.EqualFold(e.ActorEmail, actorEmail),
			zoneName != "" && e.zoneName != zoneName,
			hideUser && e.v2Shape(s).Resource.Scope == "user":
			continue
		}
		if actorNet.IsValid() {
			a, perr := netip.ParseAddr(e.ActorIP)
			if perr != nil || !actorNet.Contains(a.Unmap()) {
				continue
			}
		}
		matched = append(matched, e)
	}
	if desc {
		slices.Reverse(matched)
	}
	from := min((page-1)*perPage, len(matched))
	to := min(from+perPage, len(matched))
	result := make([]*auditV1, 0, to-from)
	for _, e := range matched[from:to] {
		result = append(result, e.v1())
	}
	return c.ok(result, map[string]int{"page": page, "per_page": perPage, "count": len(result), "total_count": len(matched)})
}

// v2 filters: query name -> the value it compares, and the values an enum
// filter accepts.
var v2Filters = map[string]func(v *auditV2) string{
	"id":               func(v *auditV2) string { return v.ID },
	"audit_log_id":     func(v *auditV2) string { return v.ID },
	"account_name":     func(v *auditV2) string { return v.Account.Name },
	"action_result":    func(v *auditV2) string { return v.Action.Result },
	"action_type":      func(v *auditV2) string { return v.Action.Type },
	"actor_context":    func(v *auditV2) string { return v.Actor.Context },
	"actor_email":      func(v *auditV2) string { return v.Actor.Email },
	"actor_id":         func(v *auditV2) string { return v.Actor.ID },
	"actor_ip_address": func(v *auditV2) string { return v.Actor.IPAddress },
	"actor_token_id":   func(v *auditV2) string { return v.Actor.TokenID },
	"actor_token_name": func(v *auditV2) string { return v.Actor.TokenName },
	"actor_type":       func(v *auditV2) string { return v.Actor.Type },
	"raw_cf_ray_id":    func(v *auditV2) string { return v.Raw.CFRayID },
	"raw_method":       func(v *auditV2) string { return v.Raw.Method },
	"raw_status_code":  func(v *auditV2) string { return strconv.Itoa(v.Raw.StatusCode) },
	"raw_uri":          func(v *auditV2) string { return v.Raw.URI },
	"resource_id":      func(v *auditV2) string { return v.Resource.ID },
	"resource_product": func(v *auditV2) string { return v.Resource.Product },
	"resource_scope":   func(v *auditV2) string { return v.Resource.Scope },
	"resource_type":    func(v *auditV2) string { return v.Resource.Type },
	"zone_id": func(v *auditV2) string {
		if v.Zone == nil {
			return ""
		}
		return v.Zone.ID
	},
	"zone_name": func(v *auditV2) string {
		if v.Zone == nil {
			return ""
		}
		return v.Zone.Name
	},
}

var v2Enums = map[string][]string{
	"action_result":  {"success", "failure"},
	"action_type":    {"create", "delete", "view", "update"},
	"actor_context":  {"api_key", "api_token", "dash", "oauth", "origin_ca_key"},
	"actor_type":     {"account", "cloudflare_admin", "system", "user"},
	"resource_scope": {"accounts", "user", "zones", "memberships"},
}

type v2Filter struct {
	get    func(*auditV2) string
	values []string
	not    bool
}

// cursor is the position after the last entry of a page: the direction
// and the entry's place in the stream, signed so clients cannot forge
// one.
func (s *Server) encodeCursor(desc bool, seq int) string {
	b := make([]byte, 26)
	b[0] = 1
	if desc {
		b[1] = 1
	}
	binary.BigEndian.PutUint64(b[2:], uint64(seq))
	m := hmac.New(sha256.New, s.secret)
	m.Write(b[:10])
	copy(b[10:], m.Sum(nil)[:16])
	return base64.URLEncoding.EncodeToString(b)
}

func (s *Server) decodeCursor(v string) (desc bool, seq int, ok bool) {
	b, err := base64.URLEncoding.DecodeString(v)
	if err != nil || len(b) != 26 || b[0] != 1 {
		return false, 0, false
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write(b[:10])
	if !hmac.Equal(b[10:], m.Sum(nil)[:16]) {
		return false, 0, false
	}
	return b[1] == 1, int(binary.BigEndian.Uint64(b[2:10])), true
}

// handleAuditV2: GET /accounts/{id}/logs/audit (PROTOCOL.md §5.2).
func (s *Server) handleAuditV2(c *request) *apiError {
	q := c.r.URL.Query()
	sinceV, ok1 := c.query("since")
	beforeV, ok2 := c.query("before")
	if !ok1 || !ok2 || sinceV == "" || beforeV == "" {
		return badRequest("since and before are required")
	}
	since, err := parseAuditTime("since", sinceV)
	if err != nil {
		return err
	}
	before, err := parseAuditTime("before", beforeV)
	if err != nil {
		return err
	}
	if !before.After(since) {
		return badRequest("before must be later than since")
	}
	limit := 100
	if v, ok := c.query("limit"); ok {
		if limit, err = parseInt("limit", v, 1, 1000); err != nil {
			return err
		}
	}
	dirV, dirOK := c.query("direction")
	desc, err := parseDirection(dirV, dirOK)
	if err != nil {
		return err
	}
	after := -1 // the stream position the page starts after
	if v, ok := c.query("cursor"); ok && v != "" {
		cd, seq, ok := s.decodeCursor(v)
		if !ok {
			return badRequest("invalid cursor")
		}
		desc, after = cd, seq
	}
	var filters []v2Filter
	for key, vals := range q {
		name, not := strings.CutSuffix(key, ".not")
		get, ok := v2Filters[name]
		if !ok {
			continue
		}
		var values []string
		for _, v := range vals {
			for part := range strings.SplitSeq(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					values = append(values, part)
				}
			}
		}
		if enum, ok := v2Enums[name]; ok {
			for _, v := range values {
				if !slices.Contains(enum, v) {
					return badRequest(key + ": unknown value " + strconv.Quote(v) + " (want one of " + strings.Join(enum, ", ") + ")")
				}
			}
		}
		if len(values) > 0 {
			filters = append(filters, v2Filter{get: get, values: values, not: not})
		}
	}

	events := s.audit.visible(c.now)
	if desc {
		slices.Reverse(events)
	}
	result := make([]*auditV2, 0, min(limit, 64))
	more := false
	for _, e := range events {
		if after >= 0 && (desc && e.seq >= after || !desc && e.seq <= after) {
			continue
		}
		if e.when.Before(since) || !e.when.Before(before) {
			continue
		}
		v := e.v2Shape(s)
		if !matchV2(v, filters) {
			continue
		}
		if len(result) == limit {
			more = true
			break
		}
		result = append(result, v)
		after = e.seq
	}
	info := map[string]any{"count": len(result)}
	if s.cfg.V2CountString {
		info["count"] = strconv.Itoa(len(result))
	}
	if more {
		cur := s.encodeCursor(desc, after)
		info["cursor"] = cur
		if s.cfg.V2CursorsAfter {
			info["cursors"] = map[string]string{"after": cur}
		}
	}
	return c.ok(result, info)
}

func matchV2(v *auditV2, filters []v2Filter) bool {
	for _, f := range filters {
		if slices.Contains(f.values, f.get(v)) == f.not {
			return false
		}
	}
	return true
}
