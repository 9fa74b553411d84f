package store

import (
	"os"
	"testing"
	"time"
)

func TestZZExplain(t *testing.T) {
	p := os.Getenv("FLAREHOSE_BENCH_DB")
	if p == "" { t.Skip() }
	s, err := Open(Options{Path: p})
	if err != nil { t.Fatal(err) }
	defer s.Close()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	P := `'$."cloudflare_logpush"."http_request"."edge"."colo"."code"'`
	PA := `'$."cloudflare_logpush"."http_request"."edge"."colo"."code"[*]'`
	V := "json_extract_string(doc, " + P + ")"
	for _, c := range []struct{ name, cond string; n int }{
		//{"A two parses", "(" + V + " = ? OR list_contains(json_extract_string(doc, " + PA + "), ?))", 2},
		//{"B scalar only", V + " = ?", 1},
		{"E starts_with", "(" + V + " = ? OR (starts_with(" + V + ", '[') AND list_contains(TRY_CAST(" + V + " AS JSON)->>'$[*]', ?)))", 2},
		//{"G json_extract once", "(json_extract(doc, " + P + ")->>'$' = ? OR list_contains(json_extract(doc, " + P + ")->>'$[*]', ?))", 2},
		{"H contains doc", "contains(CAST(doc AS VARCHAR), ?)", 1},
		{"I ilike doc", "CAST(doc AS VARCHAR) ILIKE ?", 1},
		{"J lower contains", "contains(lower(CAST(doc AS VARCHAR)), ?)", 1},
		{"K lower like esc", "lower(CAST(doc AS VARCHAR)) LIKE ? ESCAPE '\\'", 1},
		{"L lower like", "lower(CAST(doc AS VARCHAR)) LIKE ?", 1},
	} {
		args := []any{t0.Add(72 * time.Hour).UnixMicro(), t0.Add(96 * time.Hour).UnixMicro()}
		for i := 0; i < c.n; i++ { args = append(args, "FRA") }
		if c.name[0] >= 'H' { args[2] = "%googlebot%"; if c.name[0] == 'J' || c.name[0] == 'H' { args[2] = "googlebot" } }
		var n int
		best := time.Hour
		for k := 0; k < 3; k++ {
			st := time.Now()
			if err := s.db.QueryRow("SELECT count(*) FROM events WHERE ts >= make_timestamp(?) AND ts < make_timestamp(?) AND "+c.cond, args...).Scan(&n); err != nil { t.Fatal(c.name, err) }
			best = min(best, time.Since(st))
		}
		t.Logf("%-22s %6d  %v", c.name, n, best)
	}
}
