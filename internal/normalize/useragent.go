package normalize

import (
	"strings"
	"sync"

	"github.com/ua-parser/uap-go/uaparser"
	"github.com/zeebo/xxh3"

	"github.com/flarehose/flarehose/internal/normalize/ecsjson"
)

// Enricher adds fields computed from one value (user agent parsing, GeoIP).
// A Field's Enrich runs on its value when that is a non-empty string.
type Enricher interface {
	// bind registers the enricher's output slots in s and returns the
	// per-record function.
	bind(s *Schema) enrichFunc
}

type enrichFunc func(r *Rec, value string)

// UserAgent parses a user agent string like Elastic's user_agent processor
// (same uap-core regexes) into user_agent.name, version, os.name,
// os.version, os.full and device.name. Results are cached in the Env's LRU.
// user_agent.original is not written here: map the field's ECS copy to it.
var UserAgent Enricher = userAgentEnricher{prefix: "user_agent"}

type userAgentEnricher struct{ prefix string }

func (u userAgentEnricher) bind(s *Schema) enrichFunc {
	name := s.Slot(u.prefix + ".name")
	version := s.Slot(u.prefix + ".version")
	osName := s.Slot(u.prefix + ".os.name")
	osVersion := s.Slot(u.prefix + ".os.version")
	osFull := s.Slot(u.prefix + ".os.full")
	device := s.Slot(u.prefix + ".device.name")
	slots := [...]SlotRef{name, version, osName, osVersion, osFull, device}
	return func(r *Rec, ua string) {
		info := r.n.userAgent(ua)
		for i, enc := range info.enc {
			if enc != nil {
				r.SetRaw(slots[i], enc)
			}
		}
	}
}

// userAgent looks ua up in the normalizer's small lock-free cache, then in
// the Env's shared LRU.
func (n *Normalizer) userAgent(ua string) *uaInfo {
	h := xxh3.HashString(ua) & (uaFrontSize - 1)
	if info := n.uaFront[h]; info != nil && info.ua == ua {
		return info
	}
	info := n.env.ua.lookup(ua)
	n.uaFront[h] = info
	return info
}

const uaFrontSize = 256

// uaInfo is a parsed user agent, in the shape Elastic's processor writes.
// Empty strings are absent fields.
type uaInfo struct {
	ua                        string // the key, for the normalizers' front caches
	name, version             string
	osName, osVersion, osFull string
	device                    string
	enc                       [6][]byte // the six values JSON-encoded, nil when empty
}

func (u *uaInfo) encode() {
	for i, v := range [...]string{u.name, u.version, u.osName, u.osVersion, u.osFull, u.device} {
		if v != "" {
			u.enc[i] = ecsjson.AppendString(nil, v)
		}
	}
}

// uaParser wraps uap-go's compiled regexes with Elastic's result rules and
// a bounded LRU cache. The regexes are compiled on first use.
type uaParser struct {
	once  sync.Once
	p     *uaparser.Parser
	cache *lru[*uaInfo]
}

func newUAParser(cacheSize int) *uaParser {
	if cacheSize <= 0 {
		cacheSize = 16384
	}
	return &uaParser{cache: newLRU[*uaInfo](cacheSize)}
}

// maxUALength bounds the user agents parsed (longer ones are cut, as
// regex matching time grows with length).
const maxUALength = 2048

func (u *uaParser) lookup(ua string) *uaInfo {
	if info, ok := u.cache.Get(ua); ok {
		return info
	}
	u.once.Do(func() { u.p = uaparser.NewFromSaved() })
	info := u.parse(ua)
	info.ua = strings.Clone(ua)
	info.encode()
	u.cache.Add(ua, info)
	return info
}

// parse follows Elasticsearch's UserAgentProcessor and UserAgentParser: the
// first matching pattern of each list wins; no user agent or device match
// gives the name "Other", no OS match gives no OS at all; a name replacement
// only substitutes "$1", version replacements are taken literally (so
// Elasticsearch's "Windows $1" quirk is reproduced); versions join
// major.minor.patch.build up to the first missing part; the OS gets version
// and full only when it has a major version.
func (u *uaParser) parse(ua string) *uaInfo {
	if len(ua) > maxUALength {
		ua = ua[:maxUALength]
	}
	info := &uaInfo{name: "Other", device: "Other"}
	for _, p := range u.p.UA {
		m := p.Reg.FindStringSubmatchIndex(ua)
		if m == nil {
			continue
		}
		family := esName(p.FamilyReplacement, ua, m)
		if family == "" {
			continue
		}
		info.name = family
		info.version = joinVersion(
			esVersion(p.V1Replacement, 2, ua, m),
			esVersion(p.V2Replacement, 3, ua, m),
			esVersion(p.V3Replacement, 4, ua, m),
			group(ua, m, 5),
		)
		break
	}
	for _, p := range u.p.OS {
		m := p.Reg.FindStringSubmatchIndex(ua)
		if m == nil {
			continue
		}
		family := esName(p.OSReplacement, ua, m)
		if family == "" {
			continue
		}
		info.osName = family
		info.osVersion = joinVersion(
			esVersion(p.V1Replacement, 2, ua, m),
			esVersion(p.V2Replacement, 3, ua, m),
			esVersion(p.V3Replacement, 4, ua, m),
			esVersion(p.V4Replacement, 5, ua, m),
		)
		if info.osVersion != "" {
			info.osFull = family + " " + info.osVersion
		}
		break
	}
	for _, p := range u.p.Device {
		m := p.Reg.FindStringSubmatchIndex(ua)
		if m == nil {
			continue
		}
		family := esName(p.DeviceReplacement, ua, m)
		if family == "" {
			continue
		}
		info.device = family
		break
	}
	return info
}

func expand(fn func([]byte, string, string, []int) []byte, tmpl, src string, m []int) string {
	return strings.TrimSpace(string(fn(nil, tmpl, src, m)))
}

func group(s string, m []int, i int) string {
	if 2*i+1 >= len(m) || m[2*i] < 0 {
		return ""
	}
	return s[m[2*i]:m[2*i+1]]
}

func joinVersion(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if p == "" {
			break
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// esName is the family as Elasticsearch's UserAgentParser makes it: the
// replacement with its first "$1" replaced by group 1 (uap-go defaults a
// missing replacement to "$1", which gives group 1 as Elasticsearch does);
// no other $N is expanded.
func esName(repl, ua string, m []int) string {
	if !strings.Contains(repl, "$1") {
		return strings.TrimSpace(repl)
	}
	if 3 >= len(m) || m[2] < 0 {
		return strings.TrimSpace(repl)
	}
	return strings.TrimSpace(strings.Replace(repl, "$1", ua[m[2]:m[3]], 1))
}

// esVersion is a version part as Elasticsearch makes it: an explicit
// replacement is taken literally (even "$1"), else the regex group. uap-go
// fills a missing replacement with "$<group>", which is told apart that way.
func esVersion(repl string, grp int, ua string, m []int) string {
	if repl == "$"+string(rune('0'+grp)) {
		return strings.TrimSpace(group(ua, m, grp))
	}
	return strings.TrimSpace(repl)
}
