package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/search"
)

// httpDoc builds a ~1.5 KB http_requests-like ECS document.
func httpDoc(i int, ts time.Time) []byte {
	statuses := []int{200, 200, 200, 200, 200, 304, 301, 404, 403, 500}
	countries := []string{"US", "DE", "GB", "FR", "CN", "BR", "IN", "JP", "NL", "SG"}
	colos := []string{"FRA", "AMS", "LHR", "IAD", "SIN", "NRT", "GRU", "CDG"}
	paths := []string{"/", "/api/v1/users", "/api/v1/orders", "/static/app.js", "/login", "/wp-admin/", "/images/logo.png"}
	st := statuses[i%len(statuses)]
	cc := countries[(i/7)%len(countries)]
	path := paths[(i/3)%len(paths)]
	ip := fmt.Sprintf("%d.%d.%d.%d", []int{10, 203, 198, 81}[i%4], (i>>8)&255, (i>>4)&255, i&255)
	method := "GET"
	if i%13 == 0 {
		method = "POST"
	}
	t := ts.UTC().Format(time.RFC3339)
	return fmt.Appendf(nil, `{"@timestamp":%q,"cloudflare_logpush":{"http_request":{"bot":{"score":{"src":"Machine Learning","value":%d}},"cache":{"status":"dynamic"},"client":{"asn":%d,"country":%q,"device":{"type":"desktop"},"ip":%q,"request":{"bytes":%d,"host":"www.example.com","method":%q,"path":%q,"protocol":"HTTP/2","scheme":"https","uri":%q,"user":{"agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}},"ssl":{"cipher":"AEAD-AES128-GCM-SHA256","protocol":"TLSv1.3"}},"edge":{"colo":{"code":%q,"id":%d},"end_time":%q,"response":{"body_bytes":%d,"bytes":%d,"content_type":"text/html","status":%d},"server":{"ip":"172.70.1.%d"},"start_time":%q,"time_to_first_byte":{"ms":%d}},"origin":{"ip":"192.0.2.10","response":{"status":%d,"duration":{"ms":%d}}},"ray":{"id":"%016x"},"security_level":"med","zone":{"id":393347122,"name":"example.com"}}},"data_stream":{"dataset":"cloudflare_logpush.http_request","namespace":"default","type":"logs"},"destination":{"ip":"192.0.2.10"},"ecs":{"version":"8.11.0"},"event":{"category":["network","web"],"dataset":"cloudflare_logpush.http_request","kind":"event","type":["info"]},"http":{"request":{"method":%q},"response":{"bytes":%d,"status_code":%d},"version":"2"},"network":{"protocol":"http"},"related":{"ip":[%q,"192.0.2.10"]},"source":{"as":{"number":%d},"geo":{"country_iso_code":%q},"ip":%q},"tags":["preserve_original_event","forwarded","cloudflare_logpush-http_request"],"tls":{"version":"1.3","version_protocol":"tls"},"url":{"domain":"www.example.com","original":%q,"path":%q,"scheme":"https"},"user_agent":{"device":{"name":"Other"},"name":"Chrome","original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36","os":{"name":"Windows","version":"10"},"version":"124.0.0.0"}}`,
		t, i%100, 13335+i%50, cc, ip, 800+i%400, method, path, path,
		colos[i%len(colos)], 100+i%len(colos), t, 1000+i%5000, 1200+i%5000, st, i%250, t, i%900,
		st, i%700, uint64(i)*2654435761, method, 1200+i%5000, st, ip, 13335+i%50, cc, ip, path, path)
}

// BenchmarkWrite measures committed events/s; FLAREHOSE_BENCH_BATCH sets
// the records per Write (one transaction), default 1000. Every batch holds
// new records (fresh ids and times, ~10 ms apart) unless said otherwise:
//
//   - empty: a fresh store;
//   - rows=N: a store already holding N synthetic rows (FLAREHOSE_BENCH_WRITE_ROWS,
//     default 1M; 0 skips it) over the week the batches fall into, so the
//     duplicate check has old rows in its time range;
//   - redelivered: every batch was stored before, as after a crash between the
//     store's commit and the queue cursor's (nothing new is inserted).
func BenchmarkWrite(b *testing.B) {
	batchSize := 1000
	if v, err := strconv.Atoi(os.Getenv("FLAREHOSE_BENCH_BATCH")); err == nil && v > 0 {
		batchSize = v
	}
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("FLAREHOSE_BENCH_WRITE_ROWS")); err == nil && v >= 0 {
		rows = v
	}
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	// The documents are rendered once; ids and times are set per write.
	templates := make([]*event.Batch, 8)
	size := 0
	for k := range templates {
		bt := &event.Batch{Records: make([]event.Record, batchSize)}
		for j := range bt.Records {
			i := k*batchSize + j
			ts := base.Add(time.Duration(i) * 10 * time.Millisecond)
			bt.Records[j] = event.Record{Dataset: "http_requests", ID: fmt.Sprintf("%016x", i), Time: ts.UnixNano(), Doc: httpDoc(i, ts)}
		}
		size += bt.Bytes()
		templates[k] = bt
	}
	avg := size / (len(templates) * batchSize)
	ctx := context.Background()
	// fresh returns batch number seq with new ids and times.
	fresh := func(seq int) *event.Batch {
		bt := templates[seq%len(templates)]
		for j := range bt.Records {
			i := seq*batchSize + j
			bt.Records[j].ID = fmt.Sprintf("b%015x", i)
			bt.Records[j].Time = base.Add(time.Duration(i) * 10 * time.Millisecond).UnixNano()
		}
		return bt
	}
	run := func(b *testing.B, s *Store, batch func(i int) *event.Batch) {
		b.SetBytes(int64(avg * batchSize))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.Write(ctx, batch(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(avg), "doc-bytes")
	}
	// The sink's defaults: what `serve` runs with.
	def := DefaultSinkConfig()
	prod := Options{MemoryLimit: def.MemoryLimit, CheckpointThreshold: def.CheckpointThreshold}
	seq := 0 // batch numbers stay unique across the runs of a sub-benchmark
	b.Run("empty", func(b *testing.B) {
		s := openTest(b, prod)
		run(b, s, func(int) *event.Batch { seq++; return fresh(seq) })
	})
	if rows > 0 {
		s := openTest(b, prod)
		fillSynthetic(b, s, rows)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			run(b, s, func(int) *event.Batch { seq++; return fresh(seq) })
		})
	}
	b.Run("redelivered", func(b *testing.B) {
		s := openTest(b, prod)
		stored := make([]*event.Batch, len(templates))
		for k := range stored {
			bt := fresh(1_000_000 + k)
			stored[k] = &event.Batch{Records: slices.Clone(bt.Records)}
			if err := s.Write(ctx, stored[k]); err != nil {
				b.Fatal(err)
			}
		}
		run(b, s, func(i int) *event.Batch { return stored[i%len(stored)] })
	})
}

// benchRows is the size of the synthetic store of BenchmarkSearch;
// FLAREHOSE_BENCH_ROWS overrides it (e.g. 10000000 by hand).
func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("FLAREHOSE_BENCH_ROWS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// fillSynthetic inserts n http_requests/firewall_events/audit-like rows over
// seven days, in time order, with SQL (much faster than Write for 10^7 rows;
// the docs are the same shape as httpDoc's, ~1.5 KB).
func fillSynthetic(b *testing.B, s *Store, n int) {
	const span = 7 * 24 * time.Hour
	q := `
INSERT INTO events (ts, dataset, id, event_action, event_outcome, event_category, event_dataset, data_stream_dataset,
  source_ip, source_ip_num, destination_ip, destination_ip_num, source_country, source_asn, http_method, http_status,
  url_domain, url_path, user_agent_name, rule_id, zone_name, bytes, doc)
SELECT ts, dataset, id, action, NULL, ['network', 'web'], 'cloudflare_logpush.' || ds1, 'cloudflare_logpush.' || ds1,
  ip, (281470681743360::UHUGEINT + o1::UHUGEINT * 16777216 + o2 * 65536 + o3 * 256 + o4), '192.0.2.10', 281473903624202::UHUGEINT,
  cc, asn, method, status, 'www.example.com', path, 'Chrome', rule, 'example.com', bytes,
  printf('{"@timestamp":"%s","cloudflare_logpush":{"%s":{"bot":{"score":{"src":"Machine Learning","value":%d}},"cache":{"status":"dynamic"},"client":{"asn":%d,"country":"%s","device":{"type":"desktop"},"ip":"%s","request":{"bytes":%d,"host":"www.example.com","method":"%s","path":"%s","protocol":"HTTP/2","scheme":"https","uri":"%s","user":{"agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"}},"ssl":{"cipher":"AEAD-AES128-GCM-SHA256","protocol":"TLSv1.3"}},"edge":{"colo":{"code":"%s","id":%d},"response":{"body_bytes":%d,"bytes":%d,"content_type":"text/html","status":%d},"server":{"ip":"172.70.1.%d"},"time_to_first_byte":{"ms":%d}},"origin":{"ip":"192.0.2.10","response":{"status":%d,"duration":{"ms":%d}}},"ray":{"id":"%s"},"security_level":"med","zone":{"id":393347122,"name":"example.com"}}},"data_stream":{"dataset":"cloudflare_logpush.%s","namespace":"default","type":"logs"},"destination":{"ip":"192.0.2.10"},"ecs":{"version":"8.11.0"},"event":{"category":["network","web"],"dataset":"cloudflare_logpush.%s","kind":"event","type":["info"]},"http":{"request":{"method":"%s"},"response":{"bytes":%d,"status_code":%d},"version":"2"},"network":{"protocol":"http"},"related":{"ip":["%s","192.0.2.10"]},"source":{"as":{"number":%d},"geo":{"country_iso_code":"%s"},"ip":"%s"},"tags":["preserve_original_event","forwarded"],"url":{"domain":"www.example.com","original":"%s","path":"%s","scheme":"https"},"user_agent":{"device":{"name":"Other"},"name":"%s","original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) %s/124.0.0.0 Safari/537.36","os":{"name":"Windows","version":"10"},"version":"124.0.0.0"}}',
    strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ'), ds1, h % 100, asn, cc, ip, 800 + h % 400, method, path, path,
    colo, 100 + h % 8, bytes - 200, bytes, status, h % 250, h % 900, status, h % 700, id, ds1, ds1,
    method, bytes, status, ip, asn, cc, ip, path, path, ua, ua)
FROM (
  SELECT *,
    CASE WHEN i % 50 < 45 THEN 'http_requests' WHEN i % 50 < 49 THEN 'firewall_events' ELSE 'audit' END AS dataset,
    CASE WHEN i % 50 < 45 THEN 'http_request' WHEN i % 50 < 49 THEN 'firewall_event' ELSE 'audit' END AS ds1,
    CASE WHEN i % 50 BETWEEN 45 AND 48 THEN ['block', 'managed_challenge', 'log', 'skip'][1 + h % 4] END AS action,
    CASE WHEN i % 50 BETWEEN 45 AND 48 THEN printf('%032x', h % 64) END AS rule,
    o1 || '.' || o2 || '.' || o3 || '.' || o4 AS ip,
    printf('%016x', i * 2654435761) AS id,
    ['US', 'DE', 'GB', 'FR', 'CN', 'BR', 'IN', 'JP', 'NL', 'SG'][1 + (h // 1000) % 10] AS cc,
    13335 + h % 50 AS asn,
    CASE WHEN h % 13 = 0 THEN 'POST' ELSE 'GET' END AS method,
    [200, 200, 200, 200, 200, 304, 301, 404, 403, 500][1 + h % 10]::SMALLINT AS status,
    ['/', '/api/v1/users', '/api/v1/orders', '/static/app.js', '/login', '/wp-admin/', '/images/logo.png'][1 + (h // 3) % 7] AS path,
    ['FRA', 'AMS', 'LHR', 'IAD', 'SIN', 'NRT', 'GRU', 'CDG'][1 + h % 8] AS colo,
    CASE WHEN h % 97 = 0 THEN 'Googlebot' ELSE 'Chrome' END AS ua,
    1200 + h % 5000 AS bytes
  FROM (
    SELECT i, h,
      TIMESTAMP '2024-05-01' + to_microseconds((i * ?::BIGINT) // ?::BIGINT) AS ts,
      [10, 203, 198, 81][1 + h % 4] AS o1, (h >> 8) % 256 AS o2, (h >> 16) % 256 AS o3, (h >> 24) % 256 AS o4
    FROM (SELECT range AS i, (hash(range) % 1000000007)::BIGINT AS h FROM range(?::BIGINT, ?::BIGINT))
  )
)`
	start := time.Now()
	// In chunks, oldest first: bounded memory, rows in time order.
	const chunk = 500_000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		if _, err := s.db.Exec(q, span.Microseconds(), n, lo, hi); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.db.Exec("CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(s.path)
	var avg float64
	_ = s.db.QueryRow("SELECT avg(length(CAST(doc AS VARCHAR))) FROM (SELECT doc FROM events LIMIT 10000)").Scan(&avg)
	b.Logf("synthetic store: %d rows in %v, file %.0f MiB, avg doc %.0f bytes", n, time.Since(start).Round(time.Millisecond), float64(st.Size())/(1<<20), avg)
}

func BenchmarkSearch(b *testing.B) {
	n := benchRows()
	// FLAREHOSE_BENCH_DB keeps the synthetic store in that file and reuses
	// it on the next run (useful for 10^7 rows).
	path := os.Getenv("FLAREHOSE_BENCH_DB")
	reuse := false
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.duckdb")
	} else if _, err := os.Stat(path); err == nil {
		reuse = true
	}
	s, err := Open(Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if !reuse {
		fillSynthetic(b, s, n)
	}
	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	hour := search.Request{Since: t0.Add(80 * time.Hour), Until: t0.Add(81 * time.Hour)}
	dayR := search.Request{Since: t0.Add(72 * time.Hour), Until: t0.Add(96 * time.Hour)}
	with := func(r search.Request, q string) search.Request { r.Query = q; return r }

	searches := []struct {
		name string
		r    search.Request
	}{
		{"1h/status>=500+country", with(hour, "http.response.status_code >= 500 AND source.geo.country_iso_code:US")},
		{"1h/cidr", with(hour, "source.ip:10.0.0.0/8 AND http.request.method:POST")},
		{"1h/jsonpath", with(hour, "cloudflare_logpush.http_request.edge.colo.code:FRA")},
		{"1h/freetext", with(hour, "googlebot")},
		{"24h/status>=500+country", with(dayR, "http.response.status_code >= 500 AND source.geo.country_iso_code:US")},
		{"all/newest", search.Request{}},
		{"all/status:403+dataset", search.Request{Query: "http.response.status_code:403", Dataset: "firewall_events"}},
		{"all/cidr", search.Request{Query: "source.ip:10.0.0.0/8 AND http.request.method:POST"}},
		{"all/jsonpath", search.Request{Query: "cloudflare_logpush.http_request.edge.colo.code:FRA"}},
		{"all/freetext", search.Request{Query: "googlebot"}},
	}
	for _, tc := range searches {
		b.Run("search/"+tc.name, func(b *testing.B) {
			var total int64
			for i := 0; i < b.N; i++ {
				res, err := s.Search(ctx, tc.r)
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(total), "matches")
		})
	}
	tops := []struct {
		name, field string
		r           search.Request
	}{
		{"24h/country", "source.geo.country_iso_code", dayR},
		{"all/country", "source.geo.country_iso_code", search.Request{}},
		{"all/source.ip", "source.ip", search.Request{}},
		{"all/status", "http.response.status_code", search.Request{}},
		{"24h/jsonpath-colo", "cloudflare_logpush.http_request.edge.colo.code", dayR},
	}
	for _, tc := range tops {
		b.Run("top/"+tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Top(ctx, tc.r, tc.field, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	hists := []struct {
		name string
		r    search.Request
	}{
		{"24h/60", dayR},
		{"24h/60+query", with(dayR, "http.response.status_code >= 500")},
		{"all/60", search.Request{}},
	}
	for _, tc := range hists {
		b.Run("histogram/"+tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, _, err := s.Histogram(ctx, tc.r, 60); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("retention/none-expired", func(b *testing.B) {
		s.opts.Retention = 30 * 24 * time.Hour
		for i := 0; i < b.N; i++ {
			if _, err := s.ApplyRetention(ctx, t0.Add(8*24*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDedupCheck measures the duplicate check of one Write alone
// (planBatch and checkExisting, in a transaction that is rolled back) on a
// batch of FLAREHOSE_BENCH_BATCH records, in a store of
// FLAREHOSE_BENCH_WRITE_ROWS synthetic rows (default 1M) whose time range
// the batch falls into: "new" finds no duplicate (the normal case),
// "stored" finds every record.
func BenchmarkDedupCheck(b *testing.B) {
	batchSize := 1000
	if v, err := strconv.Atoi(os.Getenv("FLAREHOSE_BENCH_BATCH")); err == nil && v > 0 {
		batchSize = v
	}
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("FLAREHOSE_BENCH_WRITE_ROWS")); err == nil && v >= 0 {
		rows = v
	}
	s := openTest(b, Options{})
	if rows > 0 {
		fillSynthetic(b, s, rows)
	}
	ctx := context.Background()
	base := time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	batch := func(from int) *event.Batch {
		bt := &event.Batch{Records: make([]event.Record, batchSize)}
		for j := range bt.Records {
			i := from + j
			ts := base.Add(time.Duration(i) * 10 * time.Millisecond)
			bt.Records[j] = event.Record{Dataset: "http_requests", ID: fmt.Sprintf("%016x", uint64(i)*0x9E3779B97F4A7C15), Time: ts.UnixNano(), Doc: httpDoc(i, ts)}
		}
		return bt
	}
	// Recent rows around the batch, as in a running collector.
	for k := range 4 {
		if err := s.Write(ctx, batch(k*batchSize)); err != nil {
			b.Fatal(err)
		}
	}
	check := func(b *testing.B, bt *event.Batch, wantDups int) {
		for i := 0; i < b.N; i++ {
			conn, err := s.db.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			p := planBatch(bt, now)
			if err := s.checkExisting(ctx, conn, bt, p, now); err != nil {
				b.Fatal(err)
			}
			if n := p.dups["http_requests"]; n != wantDups {
				b.Fatalf("%d duplicates, want %d", n, wantDups)
			}
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/check")
	}
	b.Run("new", func(b *testing.B) { check(b, batch(4*batchSize), 0) })
	b.Run("stored", func(b *testing.B) { check(b, batch(batchSize), batchSize) })
}
