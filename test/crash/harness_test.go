package crash

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flarehose/flarehose/internal/deadletter"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sim"
	"github.com/flarehose/flarehose/internal/store"
)

// Liveness bounds only: nothing asserts how fast anything is.
const (
	readyTimeout = 60 * time.Second // a start, WAL replay included
	stopTimeout  = 90 * time.Second // a graceful stop (shutdown_timeout is 60s)
	drainTimeout = 90 * time.Second // the load generator gets every upload acked
)

// server runs `flarehose serve` as a child process over and over on one data
// directory and fixed addresses, like a collector restarted by systemd.
type server struct {
	t        *testing.T
	argv     []string // binary and leading arguments; "serve --config <file>" is added
	env      []string
	dataDir  string
	cfgPath  string
	logDir   string
	listen   string // logpush receiver
	httpAddr string // UI/API: /readyz
	secret   string

	starts int
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has been waited for
	logs   []string      // one file per start
}

func newServer(t *testing.T, argv, env []string, sinkType string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		t: t, argv: argv, env: env,
		dataDir: filepath.Join(dir, "data"), cfgPath: filepath.Join(dir, "flarehose.yaml"), logDir: filepath.Join(dir, "logs"),
		listen: freeAddr(t), httpAddr: freeAddr(t), secret: fmt.Sprintf("crash-%016x", rand.Uint64()),
	}
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Small queue segments, so that kills also land on segment rolls and
	// deletions; retention 0 so nothing the test sent expires.
	cfg := fmt.Sprintf(`data_dir: %s
log: {level: info, format: json}
http: {listen: %q}
shutdown_timeout: 60s
queue: {segment_bytes: 1MiB}
sources:
  - type: logpush_http
    listen: %q
    secret: %s
sinks:
  - type: %s
    retention: 0s
    memory_limit: 512MB
`, s.dataDir, s.httpAddr, s.listen, s.secret, sinkType)
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.running() {
			_ = s.cmd.Process.Kill() // our own child, by its pid
			<-s.done
		}
	})
	return s
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// start runs serve and waits until /readyz says it takes uploads.
func (s *server) start() {
	s.t.Helper()
	s.starts++
	logPath := filepath.Join(s.logDir, fmt.Sprintf("start-%02d.log", s.starts))
	f, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	s.logs = append(s.logs, logPath)
	cmd := exec.Command(s.argv[0], append(slices.Clone(s.argv[1:]), "serve", "--config", s.cfgPath)...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		s.t.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(s.done) }()

	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + s.httpAddr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.done:
			s.t.Fatalf("serve exited while starting (%v):\n%s", s.cmd.ProcessState, s.tail(logPath))
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("serve not ready after %v:\n%s", readyTimeout, s.tail(logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends serve with SIGKILL: no shutdown code runs.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Fatal(err)
	}
	<-s.done
}

// stop ends serve with SIGTERM and returns its exit code.
func (s *server) stop() int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		s.kill()
		s.t.Fatalf("serve did not stop within %v of SIGTERM:\n%s", stopTimeout, s.tail(s.logs[len(s.logs)-1]))
	}
	return s.cmd.ProcessState.ExitCode()
}

func (s *server) tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// logStats sums what the children logged.
type logStats struct {
	duplicates   int // records the store skipped as already stored
	sinkFailures int // sink writes that failed and were retried
	injected     map[string]int
	errors       []string // ERROR lines
	races        []string // the race detector's reports (a -race build)
}

func (s *server) scanLogs() logStats {
	st := logStats{injected: map[string]int{}}
	for _, path := range s.logs {
		f, err := os.Open(path)
		if err != nil {
			s.t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l struct {
				Level      string `json:"level"`
				Msg        string `json:"msg"`
				Duplicates int    `json:"duplicates"`
				Mode       string `json:"mode"`
			}
			line := sc.Text()
			if strings.Contains(line, "WARNING: DATA RACE") {
				st.races = append(st.races, filepath.Base(path))
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			switch {
			case strings.HasPrefix(l.Msg, "store: re-delivered records skipped"):
				st.duplicates += l.Duplicates
			case strings.HasPrefix(l.Msg, "sink write failed"):
				st.sinkFailures++
			case l.Msg == injectedMsg:
				st.injected[l.Mode]++
			}
			if l.Level == "ERROR" {
				st.errors = append(st.errors, filepath.Base(path)+": "+line)
			}
		}
		f.Close()
	}
	return st
}

// ---- load: Cloudflare's side ----

const recordsPerUpload = 200

// upload is one Logpush upload: the same bytes every time it is sent.
type upload struct {
	seq   int
	body  []byte // gzip'd NDJSON
	rays  []string
	sends int
	acked bool
}

// loadStats counts what the load generator did.
type loadStats struct {
	uploads       int // distinct uploads made
	posts         int // requests sent
	acked         int // uploads answered 200 (first time)
	refused       int // connection refused: serve was down, nothing sent
	unanswered    int // sent, no answer (killed meanwhile): maybe stored, re-sent
	rejected      int // answered, not 200 (429/503 while starting or stopping)
	lostAckResent int // answered 200 but re-sent anyway, as when Cloudflare misses the 200
	resentRecords int // records in uploads sent again after they may have been stored
}

// loadGen posts gzip'd http_requests uploads rendered by the simulator from
// several connections, records which RayIDs were acknowledged, and re-sends
// every upload that failed or got no answer, like Cloudflare does.
type loadGen struct {
	url, secret string
	client      *http.Client
	lostAckRate float64
	interval    time.Duration // between new uploads, on average (pacing)

	gmu    sync.Mutex // the generator
	gen    sim.Generator
	format *sim.Format
	buf    []byte

	mu        sync.Mutex
	retry     []*upload
	producing bool
	burst     int // new uploads released at once
	tokens    int
	nextNew   time.Time
	sent      map[string]bool // every RayID ever sent
	acked     map[string]bool // RayIDs of uploads answered 200
	st        loadStats

	wg     sync.WaitGroup
	cancel context.CancelFunc
}

func newLoadGen(t *testing.T, s *server, workers int, recordsPerSec int, lostAckRate float64, seed uint64) *loadGen {
	t.Helper()
	gen, err := sim.NewGenerator("http_requests", seed)
	if err != nil {
		t.Fatal(err)
	}
	format, err := sim.NewFormat("http_requests", sim.OutputOptions{TimestampFormat: sim.TimestampRFC3339ns})
	if err != nil {
		t.Fatal(err)
	}
	lg := &loadGen{
		url: "http://" + s.listen + "/logpush/http_requests", secret: s.secret,
		client:      &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}},
		lostAckRate: lostAckRate,
		interval:    time.Second * recordsPerUpload / time.Duration(recordsPerSec),
		gen:         gen, format: format,
		producing: true, burst: workers, sent: map[string]bool{}, acked: map[string]bool{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	lg.cancel = cancel
	for range workers {
		lg.wg.Go(func() { lg.work(ctx) })
	}
	t.Cleanup(func() { cancel(); lg.wg.Wait() })
	return lg
}

// render makes upload seq: recordsPerUpload records stamped now, each with a
// RayID never sent before.
func (lg *loadGen) render(seq int) (*upload, error) {
	lg.gmu.Lock()
	defer lg.gmu.Unlock()
	u := &upload{seq: seq}
	var plain bytes.Buffer
	t := time.Now()
	for len(u.rays) < recordsPerUpload {
		t = t.Add(time.Millisecond)
		lg.buf = lg.gen.Append(lg.buf[:0], t, lg.format)
		var r struct{ RayID string }
		if err := json.Unmarshal(lg.buf, &r); err != nil || r.RayID == "" {
			return nil, fmt.Errorf("simulated record without RayID (%v): %s", err, lg.buf)
		}
		lg.mu.Lock()
		dup := lg.sent[r.RayID]
		lg.sent[r.RayID] = true
		lg.mu.Unlock()
		if dup {
			continue // a RayID collision: the test needs unique ones
		}
		u.rays = append(u.rays, r.RayID)
		plain.Write(lg.buf)
		if !bytes.HasSuffix(lg.buf, []byte("\n")) {
			plain.WriteByte('\n')
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	u.body = gz.Bytes()
	return u, nil
}

// take returns the next upload to send: a re-send first, else a new one
// (paced); nil when production stopped and nothing is left to re-send.
func (lg *loadGen) take(ctx context.Context) *upload {
	for ctx.Err() == nil {
		lg.mu.Lock()
		if len(lg.retry) > 0 {
			u := lg.retry[0]
			lg.retry = lg.retry[1:]
			lg.mu.Unlock()
			return u
		}
		if !lg.producing {
			lg.mu.Unlock()
			return nil
		}
		if lg.tokens == 0 {
			now := time.Now()
			if wait := lg.nextNew.Sub(now); wait > 0 {
				lg.mu.Unlock()
				sleep(ctx, min(wait, 20*time.Millisecond))
				continue
			}
			// A burst of one upload per worker: several in flight at once.
			lg.tokens = lg.burst
			lg.nextNew = now.Add(lg.interval * time.Duration(lg.burst))
		}
		lg.tokens--
		lg.st.uploads++
		seq := lg.st.uploads
		lg.mu.Unlock()
		u, err := lg.render(seq)
		if err != nil {
			panic(err) // a simulator bug, not a flarehose one
		}
		return u
	}
	return nil
}

func (lg *loadGen) work(ctx context.Context) {
	for {
		u := lg.take(ctx)
		if u == nil {
			return
		}
		code, err := lg.post(ctx, u)
		if ctx.Err() != nil {
			return
		}
		lg.mu.Lock()
		lg.st.posts++
		maybeStored := false
		switch {
		case err == nil && code == http.StatusOK:
			if !u.acked {
				u.acked = true
				lg.st.acked++
				for _, r := range u.rays {
					lg.acked[r] = true
				}
				if rand.Float64() < lg.lostAckRate {
					lg.st.lostAckResent++
					maybeStored = true
					lg.retry = append(lg.retry, u)
				}
			}
		case err != nil && errors.Is(err, syscall.ECONNREFUSED):
			lg.st.refused++
			lg.retry = append(lg.retry, u)
		case err != nil:
			lg.st.unanswered++
			maybeStored = true
			lg.retry = append(lg.retry, u)
		default:
			lg.st.rejected++
			lg.retry = append(lg.retry, u)
		}
		if maybeStored {
			lg.st.resentRecords += len(u.rays)
		}
		lg.mu.Unlock()
		if err != nil || code != http.StatusOK {
			sleep(ctx, time.Duration(10+rand.IntN(40))*time.Millisecond) // Cloudflare backs off
		}
	}
}

func (lg *loadGen) post(ctx context.Context, u *upload) (int, error) {
	u.sends++
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lg.url, bytes.NewReader(u.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("X-Flarehose-Secret", lg.secret)
	resp, err := lg.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err // the answer was cut: treat as none
	}
	return resp.StatusCode, nil
}

// finish stops new uploads and waits until every upload made was answered
// 200 (re-sending the rest), then returns the acknowledged RayIDs.
func (lg *loadGen) finish(t *testing.T) map[string]bool {
	t.Helper()
	lg.mu.Lock()
	lg.producing = false
	lg.mu.Unlock()
	done := make(chan struct{})
	go func() { lg.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		lg.cancel()
		<-done
		t.Fatalf("uploads still not acknowledged after %v: %d left", drainTimeout, len(lg.retry))
	}
	lg.mu.Lock()
	defer lg.mu.Unlock()
	return lg.acked
}

func (lg *loadGen) stats() (loadStats, int) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	return lg.st, len(lg.acked)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// ---- verification ----

// storedRays reads every event of the stopped server's store: RayID -> copies.
func storedRays(t *testing.T, s *server) map[string]int {
	t.Helper()
	st, err := store.OpenReadOnly(filepath.Join(s.dataDir, store.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]int{}
	const page = 10000
	for off := 0; ; off += page {
		res, err := st.Search(context.Background(), search.Request{Asc: true, Limit: page, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			var d struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			}
			if err := json.Unmarshal(h.Doc, &d); err != nil || d.Event.ID == "" {
				t.Fatalf("stored document without event.id (%v): %.300s", err, h.Doc)
			}
			out[d.Event.ID]++
		}
		if len(res.Hits) < page {
			if int64(off+len(res.Hits)) != res.Total {
				t.Fatalf("paged %d events, total says %d", off+len(res.Hits), res.Total)
			}
			return out
		}
	}
}

// checkExactlyOnce compares the store with what was acknowledged: every
// acknowledged RayID once, nothing twice, nothing unknown. sent is every
// RayID the load generator made; one that was never acknowledged may be
// stored (its upload was stored but the answer lost), at most once.
func checkExactlyOnce(t *testing.T, acked, sent map[string]bool, counts map[string]int) {
	t.Helper()
	var lost, dup, unknown []string
	for r := range acked {
		if counts[r] == 0 {
			lost = append(lost, r)
		}
	}
	unacked := 0
	for r, n := range counts {
		switch {
		case !sent[r]:
			unknown = append(unknown, r)
		case n > 1:
			dup = append(dup, fmt.Sprintf("%s x%d", r, n))
		}
		if !acked[r] {
			unacked++
		}
	}
	slices.Sort(lost)
	slices.Sort(dup)
	slices.Sort(unknown)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged records lost, e.g. %v", len(lost), lost[:min(5, len(lost))])
	}
	if len(dup) > 0 {
		t.Errorf("%d records stored more than once, e.g. %v", len(dup), dup[:min(5, len(dup))])
	}
	if len(unknown) > 0 {
		t.Errorf("%d stored records were never sent, e.g. %v", len(unknown), unknown[:min(5, len(unknown))])
	}
	if len(counts) != len(acked)+unacked {
		t.Errorf("store holds %d distinct records, want %d acknowledged + %d stored unacknowledged", len(counts), len(acked), unacked)
	}
}

// deadLetters returns the dead letter files' content: simulated records are
// all valid, so any is a failure.
func deadLetters(t *testing.T, s *server) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(filepath.Join(s.dataDir, "deadletter"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, deadletter.FileSuffix) {
			data, _ := os.ReadFile(path)
			if len(data) > 0 {
				fmt.Fprintf(&b, "%s: %.500s\n", filepath.Base(path), data)
			}
		}
		return nil
	})
	return b.String()
}

// ackedNow returns a copy of the RayIDs acknowledged so far.
func (lg *loadGen) ackedNow() map[string]bool {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	return maps.Clone(lg.acked)
}

// checkStored checks, while serve is stopped, that every acknowledged
// record is in the store, once.
func checkStored(t *testing.T, s *server, acked map[string]bool) {
	t.Helper()
	counts := storedRays(t, s)
	missing, dup := 0, 0
	for r := range acked {
		switch {
		case counts[r] == 0:
			missing++
		case counts[r] > 1:
			dup++
		}
	}
	if missing > 0 || dup > 0 {
		t.Errorf("after a graceful stop: %d of %d acknowledged records not in the store, %d stored more than once", missing, len(acked), dup)
	}
}
