package normalize

import (
	"net/netip"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Helpers of the "endpoint" datasets (DEX, device posture, WARP, CASB, DLP,
// Turnstile, Account Abuse Protection).

// epBool is Elastic's convert to boolean: true/false or the strings
// "true"/"false" (any case).
func epBool(v *fastjson.Value) (val, ok bool) {
	if v == nil {
		return false, false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		switch {
		case strings.EqualFold(b2s(b), "true"):
			return true, true
		case strings.EqualFold(b2s(b), "false"):
			return false, true
		}
	}
	return false, false
}

// epOSTypes are the ECS host.os.type values, in the order Elastic's DEX
// pipelines try them.
var epOSTypes = [...]string{"linux", "macos", "unix", "windows", "ios", "android"}

// epHostOSType returns the per-record function of Elastic's
// script_map_host_os_type: host.os.type is the first ECS OS type that
// contains the (lowercased) platform name or is contained in it ("mac" →
// macos). An empty platform gets no type (Elastic's script would match
// "linux", because every string contains "").
func epHostOSType(s *Schema, src string) func(r *Rec) {
	platform := s.Field(src)
	osType := s.Slot("host.os.type")
	return func(r *Rec) {
		p, ok := r.String(platform)
		if !ok || p == "" {
			return
		}
		p = epLower(p)
		for _, t := range epOSTypes {
			if strings.Contains(p, t) || strings.Contains(t, p) {
				r.SetString(osType, t)
				return
			}
		}
	}
}

// epLower lowercases s, allocating only when it has upper case
// letters.
func epLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// epIPList returns the per-record function of Elastic's "convert to ip,
// then append to a list" idiom: the valid addresses among srcs (in order,
// without duplicates) become a JSON array at path, and go to related.ip;
// an invalid one is reported and left out.
func epIPList(s *Schema, path string, srcs ...string) func(r *Rec) {
	out := s.Slot(path)
	if len(srcs) > 4 {
		panic("normalize: epIPList takes at most 4 fields")
	}
	fields := make([]FieldRef, len(srcs))
	for i, src := range srcs {
		fields[i] = s.Field(src)
	}
	return func(r *Rec) {
		var vals [4]string // (the function is shared by all normalizers: no state outside)
		n := 0
	next:
		for i, f := range fields {
			ip, ok := r.String(f)
			if !ok {
				if v := r.Value(f); v != nil && v.Type() != fastjson.TypeNull {
					r.AddError(srcs[i] + ": cannot convert " + describe(v) + " to ip")
				}
				continue
			}
			if ip == "" {
				continue
			}
			if !epValidIP(ip) {
				r.AddError(srcs[i] + ": cannot convert " + describe(r.Value(f)) + " to ip")
				continue
			}
			for _, prev := range vals[:n] {
				if prev == ip {
					continue next
				}
			}
			if n < len(vals) {
				vals[n] = ip
				n++
			}
		}
		if n == 0 {
			return
		}
		b := r.begin()
		b = append(b, '[')
		for i, ip := range vals[:n] {
			if i > 0 {
				b = append(b, ',')
			}
			b = ecsjson.AppendString(b, ip)
			r.AddRelated(RelatedIP, ip)
		}
		b = append(b, ']')
		r.commit(out, b)
	}
}

// epValidIP is Elastic's convert to ip check.
func epValidIP(s string) bool {
	if len(s) > 64 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
