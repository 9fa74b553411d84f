package cfapi

import (
	"strings"
	"testing"
)

func TestFilterOperators(t *testing.T) {
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := cat.lookup("zone", "http_requests")
	rec := `{"ClientRequestHost":"www.example.com","ClientRequestPath":"/static/app.js","EdgeResponseStatus":404,"BotScore":12,` +
		`"SecurityActions":["block","log"],"WorkerSubrequest":false,"ClientCountry":"de"}`
	cond := func(key, op, value string) string {
		return `{"where":{"key":"` + key + `","operator":"` + op + `","value":` + value + `}}`
	}
	cases := []struct {
		filter string
		want   bool
	}{
		{cond("ClientRequestHost", "eq", `"www.example.com"`), true},
		{cond("ClientRequestHost", "!eq", `"www.example.com"`), false},
		{cond("ClientRequestHost", "neq", `"api.example.com"`), true},
		{cond("EdgeResponseStatus", "eq", `404`), true},
		{cond("EdgeResponseStatus", "eq", `"404"`), true},
		{cond("WorkerSubrequest", "eq", `false`), true},
		{cond("EdgeResponseStatus", "geq", `"400"`), true},
		{cond("EdgeResponseStatus", "lt", `400`), false},
		{cond("BotScore", "leq", `30`), true},
		{cond("BotScore", "gt", `30`), false},
		{cond("ClientRequestPath", "startsWith", `"/static"`), true},
		{cond("ClientRequestPath", "!startsWith", `"/static"`), false},
		{cond("ClientRequestPath", "endsWith", `".js"`), true},
		{cond("ClientRequestPath", "!endsWith", `".css"`), true},
		{cond("ClientRequestPath", "contains", `"app"`), true},
		{cond("ClientRequestPath", "!contains", `"app"`), false},
		{cond("SecurityActions", "contains", `"block"`), true},
		{cond("SecurityActions", "contains", `"challenge"`), false},
		{cond("EdgeResponseStatus", "in", `[200,404]`), true},
		{cond("EdgeResponseStatus", "!in", `[200,404]`), false},
		{cond("EdgeResponseStatus", "in", `"200,201"`), false},
		{cond("ClientCountry", "in", `["de","fr"]`), true},
		{`{"where":{"and":[` + strings.TrimSuffix(strings.TrimPrefix(cond("ClientCountry", "eq", `"de"`), `{"where":`), "}") + `,` +
			strings.TrimSuffix(strings.TrimPrefix(cond("BotScore", "gt", `50`), `{"where":`), "}") + `]}}`, false},
		{`{"where":{"or":[` + strings.TrimSuffix(strings.TrimPrefix(cond("ClientCountry", "eq", `"us"`), `{"where":`), "}") + `,` +
			strings.TrimSuffix(strings.TrimPrefix(cond("BotScore", "lt", `50`), `{"where":`), "}") + `]}}`, true},
	}
	for _, c := range cases {
		f, err := compileFilter(c.filter, ds)
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if got := f.keep([]byte(rec)); got != c.want {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}

	fw, _ := cat.lookup("zone", "firewall_events")
	many := `{"where":{"or":[` + strings.Repeat(`{"key":"BotScore","operator":"eq","value":1},`, 30) + `{"key":"BotScore","operator":"eq","value":1}]}}`
	for _, bad := range []struct {
		filter string
		ds     *dataset
		msg    string
	}{
		{cond("Cookies", "eq", `"x"`), ds, "object"},
		{cond("ClientRequestHost", "gt", `"a"`), ds, "does not apply"},
		{cond("BotScore", "startsWith", `"1"`), ds, "does not apply"},
		{cond("BotScore", "gt", `"high"`), ds, "must be a number"},
		{cond("ClientRequestHost", "like", `"a"`), ds, "not supported"},
		{cond("Action", "eq", `"block"`), fw, "cannot be filtered"},
		{cond("EdgeResponseStatus", "in", `{"a":1}`), ds, "array"},
		{many, ds, "the limit is"}, // 31 conditions cannot fit in 1000 bytes anyway
		{`{"where":{"and":[]}}`, ds, "non-empty"},
		{`{"where":` + strings.Repeat(" ", 1000) + `{}}`, ds, "limit is 1000"},
	} {
		if _, err := compileFilter(bad.filter, bad.ds); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%.80s: error %v, want %q", bad.filter, err, bad.msg)
		}
	}
}
