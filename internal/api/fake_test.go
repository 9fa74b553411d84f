package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flarehose/flarehose/internal/search"
)

// fakeEngine is a search.Engine over events in memory. It records every
// request, honours dataset, time window, order, limit and offset, and rejects
// queries search.Parse rejects; it does not evaluate queries otherwise.
type fakeEngine struct {
	mu       sync.Mutex
	events   []search.Hit // newest first
	err      error        // returned by every call when set
	reqs     []search.Request
	buckets  []int
	fields   []string
	limits   []int
	blockCtx bool // wait for ctx to end and return its error
}

func (f *fakeEngine) record(r search.Request) error {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, err := search.Parse(r.Query); err != nil {
		return err
	}
	return nil
}

func (f *fakeEngine) last() search.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		return search.Request{}
	}
	return f.reqs[len(f.reqs)-1]
}

func (f *fakeEngine) match(r search.Request) []search.Hit {
	var out []search.Hit
	for _, h := range f.events {
		if r.Dataset != "" && h.Dataset != r.Dataset {
			continue
		}
		if !r.Since.IsZero() && h.Time.Before(r.Since) {
			continue
		}
		if !r.Until.IsZero() && !h.Time.Before(r.Until) {
			continue
		}
		out = append(out, h)
	}
	return out
}

func (f *fakeEngine) Search(ctx context.Context, r search.Request) (*search.Result, error) {
	if f.blockCtx {
		<-ctx.Done()
		return nil, fmt.Errorf("store: %w", ctx.Err())
	}
	if err := f.record(r); err != nil {
		return nil, err
	}
	m := f.match(r)
	if r.Asc {
		for i, j := 0, len(m)-1; i < j; i, j = i+1, j-1 {
			m[i], m[j] = m[j], m[i]
		}
	}
	res := &search.Result{Total: int64(len(m)), Took: 1.5}
	lim := r.Limit
	if lim == 0 {
		lim = 100
	}
	if r.Offset < len(m) {
		m = m[r.Offset:]
		if len(m) > lim {
			m = m[:lim]
		}
		res.Hits = m
	}
	return res, nil
}

func (f *fakeEngine) Histogram(ctx context.Context, r search.Request, n int) ([]search.Bucket, time.Duration, error) {
	f.mu.Lock()
	f.buckets = append(f.buckets, n)
	f.mu.Unlock()
	if err := f.record(r); err != nil {
		return nil, 0, err
	}
	m := f.match(r)
	since, until := r.Since, r.Until
	if until.IsZero() {
		until = time.Now()
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
		if len(m) > 0 {
			since = m[len(m)-1].Time
		}
	}
	iv := until.Sub(since) / time.Duration(n)
	for _, s := range []time.Duration{time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if s >= iv {
			iv = s
			break
		}
	}
	counts := map[int64]int64{}
	for _, h := range m {
		counts[h.Time.Truncate(iv).UnixNano()]++
	}
	var out []search.Bucket
	for t := since.Truncate(iv); t.Before(until); t = t.Add(iv) {
		if c := counts[t.UnixNano()]; c > 0 { // sparse, as a GROUP BY would answer
			out = append(out, search.Bucket{Start: t.UTC(), Count: c})
		}
	}
	return out, iv, nil
}

func (f *fakeEngine) Top(ctx context.Context, r search.Request, field string, limit int) ([]search.Count, error) {
	f.mu.Lock()
	f.fields = append(f.fields, field)
	f.limits = append(f.limits, limit)
	f.mu.Unlock()
	if err := f.record(r); err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, h := range f.match(r) {
		var doc map[string]any
		if json.Unmarshal(h.Doc, &doc) != nil {
			continue
		}
		if v, ok := lookup(doc, field); ok {
			counts[fmt.Sprint(v)]++
		}
	}
	out := make([]search.Count, 0, len(counts))
	for v, c := range counts {
		out = append(out, search.Count{Value: v, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fakeEngine) datasets(context.Context) ([]search.Count, error) {
	counts := map[string]int64{}
	for _, h := range f.events {
		counts[h.Dataset]++
	}
	var out []search.Count
	for v, c := range counts {
		out = append(out, search.Count{Value: v, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out, nil
}

func lookup(doc map[string]any, field string) (any, bool) {
	var cur any = doc
	for _, p := range strings.Split(field, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	if v, ok := cur.(float64); ok {
		return int64(v), true
	}
	return cur, true
}

// demoEvents makes n plausible ECS events over the day before now.
func demoEvents(n int, now time.Time) []search.Hit {
	rng := rand.New(rand.NewPCG(1, 2))
	ips := []string{"203.0.113.7", "198.51.100.23", "192.0.2.44", "2001:db8::17", "203.0.113.99", "198.51.100.4"}
	countries := []string{"US", "DE", "CN", "FR", "BR", "US", "US", "GB"}
	domains := []string{"www.example.com", "api.example.com", "shop.example.net"}
	paths := []string{"/", "/login", "/api/v1/orders", "/wp-login.php", "/static/app.js", "/search?q=shoes", "/.env"}
	methods := []string{"GET", "GET", "GET", "POST", "PUT"}
	statuses := []int{200, 200, 200, 200, 301, 304, 403, 404, 429, 500, 502}
	var out []search.Hit
	for i := 0; i < n; i++ {
		// more traffic in recent hours, with a burst 3 hours ago
		age := time.Duration(rng.ExpFloat64() * float64(6*time.Hour))
		if i%7 == 0 {
			age = 3*time.Hour + time.Duration(rng.IntN(int(10*time.Minute)))
		}
		if age > 24*time.Hour {
			age = time.Duration(rng.Int64N(int64(24 * time.Hour)))
		}
		t := now.Add(-age).Truncate(time.Millisecond)
		ip := ips[rng.IntN(len(ips))]
		cc := countries[rng.IntN(len(countries))]
		ray := fmt.Sprintf("%016x", rng.Uint64())
		var ds string
		var doc map[string]any
		switch r := rng.IntN(10); {
		case r < 7:
			ds = "http_requests"
			d, p, m, st := domains[rng.IntN(len(domains))], paths[rng.IntN(len(paths))], methods[rng.IntN(len(methods))], statuses[rng.IntN(len(statuses))]
			doc = map[string]any{
				"@timestamp":  t.Format(time.RFC3339Nano),
				"data_stream": map[string]any{"dataset": "cloudflare_logpush.http_request"},
				"event":       map[string]any{"dataset": "cloudflare_logpush.http_request", "kind": "event", "category": []string{"network", "web"}},
				"source":      map[string]any{"ip": ip, "geo": map[string]any{"country_iso_code": cc}, "as": map[string]any{"number": 64496 + rng.IntN(5)}},
				"http":        map[string]any{"request": map[string]any{"method": m, "bytes": 300 + rng.IntN(900)}, "response": map[string]any{"status_code": st, "bytes": 1000 + rng.IntN(90000)}, "version": "2"},
				"url":         map[string]any{"domain": d, "path": strings.SplitN(p, "?", 2)[0], "original": p, "scheme": "https"},
				"user_agent":  map[string]any{"original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "name": "Chrome"},
				"cloudflare_logpush": map[string]any{"http_request": map[string]any{
					"ray_id": ray, "cache": map[string]any{"status": "miss"}, "edge": map[string]any{"colo": map[string]any{"code": "FRA"}},
					"bot": map[string]any{"score": map[string]any{"value": 1 + rng.IntN(99)}}, "waf": map[string]any{"attack_score": nil},
				}},
			}
		case r < 9:
			ds = "firewall_events"
			action := []string{"block", "managed_challenge", "log", "skip"}[rng.IntN(4)]
			doc = map[string]any{
				"@timestamp": t.Format(time.RFC3339Nano),
				"event":      map[string]any{"action": action, "dataset": "cloudflare_logpush.firewall_event", "kind": "event"},
				"source":     map[string]any{"ip": ip, "geo": map[string]any{"country_iso_code": cc}},
				"http":       map[string]any{"request": map[string]any{"method": "POST"}},
				"url":        map[string]any{"domain": domains[rng.IntN(len(domains))], "path": "/wp-login.php", "original": "/wp-login.php"},
				"rule":       map[string]any{"name": "Block WordPress brute force", "id": "a1b2c3"},
				"cloudflare_logpush": map[string]any{"firewall_event": map[string]any{
					"ray_id": ray, "source": "firewallManaged", "matches": []any{map[string]any{"rule_id": "100173"}},
				}},
			}
		default:
			ds = "audit_logs"
			doc = map[string]any{
				"@timestamp": t.Format(time.RFC3339Nano),
				"event":      map[string]any{"action": []string{"login", "token_create", "rec_set"}[rng.IntN(3)], "dataset": "cloudflare_logpush.audit", "outcome": "success"},
				"user":       map[string]any{"email": "ops@example.com", "id": "u-42"},
				"source":     map[string]any{"ip": ip},
				"tags":       []string{"forwarded", "cloudflare_logpush-audit"},
			}
		}
		b, _ := json.Marshal(doc)
		out = append(out, search.Hit{Time: t.UTC(), Dataset: ds, ID: ray, Doc: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}
