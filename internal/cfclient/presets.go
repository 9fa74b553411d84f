package cfclient

import "sort"

// Field presets: small, named field lists for datasets whose full field
// list is large. "all" (every field the API lists for the dataset) is not
// a preset: it needs the API.
var presets = map[string]map[string][]string{
	"http_requests": {
		// minimal: the README's quick-start list: who asked what, when, and
		// the answer.
		"minimal": {"ClientIP", "ClientRequestHost", "ClientRequestMethod", "ClientRequestURI",
			"EdgeEndTimestamp", "EdgeResponseStatus", "EdgeStartTimestamp", "RayID"},
		// default: what the store's typed columns, the UI and Elastic's
		// dashboards use: client (IP, country, ASN, user agent), request
		// (host, method, URI, protocol, referer, size), response (status,
		// bytes, content type, cache status), origin status, the data
		// center, the security action and the zone.
		"default": {"CacheCacheStatus", "ClientASN", "ClientCountry", "ClientIP", "ClientRequestBytes",
			"ClientRequestHost", "ClientRequestMethod", "ClientRequestProtocol", "ClientRequestReferer",
			"ClientRequestScheme", "ClientRequestURI", "ClientRequestUserAgent", "ClientSrcPort",
			"EdgeColoCode", "EdgeEndTimestamp", "EdgeResponseBytes", "EdgeResponseContentType",
			"EdgeResponseStatus", "EdgeServerIP", "EdgeStartTimestamp", "OriginResponseStatus",
			"RayID", "SecurityAction", "ZoneName"},
		// security: default plus the WAF, bot and fingerprint fields threat
		// hunting uses. Bot* fields need Bot Management on the zone's plan
		// (otherwise Cloudflare refuses the job with code 1004).
		"security": {"BotScore", "BotScoreSrc", "BotTags", "CacheCacheStatus", "ClientASN", "ClientCountry",
			"ClientIP", "ClientIPClass", "ClientRequestBytes", "ClientRequestHost", "ClientRequestMethod",
			"ClientRequestPath", "ClientRequestProtocol", "ClientRequestReferer", "ClientRequestScheme",
			"ClientRequestURI", "ClientRequestUserAgent", "ClientSrcPort", "EdgeColoCode", "EdgeEndTimestamp",
			"EdgeResponseBytes", "EdgeResponseContentType", "EdgeResponseStatus", "EdgeServerIP",
			"EdgeStartTimestamp", "JA3Hash", "JA4", "LeakedCredentialCheckResult", "OriginResponseStatus",
			"RayID", "SecurityAction", "SecurityActions", "SecurityRuleDescription", "SecurityRuleID",
			"SecurityRuleIDs", "SecuritySources", "VerifiedBotCategory", "WAFAttackScore",
			"WAFRCEAttackScore", "WAFSQLiAttackScore", "WAFXSSAttackScore", "ZoneName"},
	},
}

// Preset returns a named field list of a dataset.
func Preset(dataset, name string) ([]string, bool) {
	f, ok := presets[dataset][name]
	if !ok {
		return nil, false
	}
	return append([]string(nil), f...), true
}

// Presets returns the preset names of a dataset, sorted.
func Presets(dataset string) []string {
	var names []string
	for n := range presets[dataset] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
