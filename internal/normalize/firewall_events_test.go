package normalize

import "testing"

// TestFirewallEventsAccountScope: the account-scoped firewall_events
// dataset (same fields as the zone one, plus ZoneName) maps every field.
func TestFirewallEventsAccountScope(t *testing.T) {
	line := `{"Action":"block","ClientASN":3320,"ClientCountry":"de","ClientIP":"198.51.100.7","ClientRequestHost":"api.example.net",` +
		`"ClientRequestMethod":"POST","ClientRequestPath":"/v1/login","ClientRequestProtocol":"HTTP/2","ClientRequestQuery":"?a=1",` +
		`"ClientRequestScheme":"https","Datetime":"2024-04-17T12:00:00Z","Description":"account WAF rule","EdgeResponseStatus":403,` +
		`"Kind":"firewall","RayID":"8757d2a4bc1e2f01","RuleID":"r1","Source":"firewallCustom","ZoneName":"example.net"}`
	env := newTestEnv(t, Options{})
	doc, _ := normalizeOne(t, env, "firewall_events", line)
	for k, want := range map[string]string{
		"cloudflare_logpush.firewall_event.zone.name": "example.net",
		"url.domain":       "api.example.net",
		"event.action":     "block",
		"http.version":     "2",
		"network.protocol": "http",
	} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}
	if u := env.UnknownFields("firewall_events"); u != 0 {
		t.Errorf("%d unknown fields", u)
	}
}
