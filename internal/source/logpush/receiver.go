// Package logpush is the source that receives Cloudflare Logpush uploads
// sent to an HTTP destination: POST <path_prefix><dataset>, gzip or plain
// NDJSON, authenticated by a shared secret header or basic auth.
//
// # What each request gets
//
//	GET or HEAD /                          200 "flarehose logpush receiver" (no auth; not counted)
//	path not under path_prefix             404
//	method other than POST under it        405, Allow: POST
//	missing or wrong credential            401 (WWW-Authenticate when basic auth is set); nothing read
//	missing or unknown dataset             404, before the body is read
//	Content-Length over max_body_bytes     413, before the body is read
//	too many uploads at once               429 + Retry-After (after waiting up to 5 s for a slot)
//	Content-Encoding other than gzip       415
//	body is a JSON array / wrapped doc     415 (decode.CheckNDJSON: only NDJSON is supported)
//	bad or truncated gzip                  400 with a one-line reason
//	client stops sending (read_timeout)    408
//	body cut short by the client           400
//	body over max_body_bytes               413
//	decompressed over max_decompressed_bytes 413
//	Cloudflare's validation probe          200, nothing handed on
//	empty or blank body                    200, nothing handed on
//	consumer: event.ErrBackpressure        429 + Retry-After
//	consumer: event.ErrClosed              503 + Retry-After
//	consumer: event.ErrUnavailable         503 + Retry-After (disk full or failing; logged once by the pipeline)
//	consumer: event.ErrUnknownDataset      404
//	consumer: any other error              500 (Cloudflare retries)
//	every chunk consumed                   200
//
// # Chunks, acknowledgement, duplicates
//
// The body is decompressed as it streams in and cut into chunks of about
// chunk_bytes at line ends (decode.ChunkReader); each chunk is one
// event.Delivery handed to the consumer, in order, one at a time. The answer
// is 200 only after every chunk's Consume returned nil, which means every
// record is durable. If a later chunk fails (consumer error, bad gzip further
// in, body too large, client timeout), the chunks before it are already
// stored but the answer is an error, so Cloudflare sends the whole upload
// again: the stored records then come twice and are removed downstream by
// their deterministic IDs (RayID or content hash). Losing nothing is worth a
// duplicate.
//
// gzip checks its CRC at the end of each member, so for an upload of more
// than one chunk the first chunks are handed on before the checksum is known.
// TLS already guards the bytes in transit; a body that is corrupt at the
// source yields garbage lines that the pipeline dead-letters, and a 400.
//
// # Who counts what
//
// The receiver counts source_requests_total by status (not GET /),
// source_bytes_total (body bytes as sent, read so far, whatever the outcome)
// and source_ack_seconds (request start to 200, for requests that stored
// something). It does not count source_records_total: the pipeline does,
// once per delivery. Validation probes never reach the pipeline, so the
// receiver counts them, once, in records_dropped_total{reason="validation_probe"};
// the pipeline's own drop of a probe only applies to probes that come from
// other sources.
//
// # Logs
//
// Debug for every request; warn for every 4xx/5xx with the reason. Only the
// path is logged: never headers (the secret is one) nor the query string
// (people put secrets there too).
package logpush

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flarehose/flarehose/internal/decode"
	"github.com/flarehose/flarehose/internal/event"
	"github.com/flarehose/flarehose/internal/source"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// DropReasonProbe is the records_dropped_total reason for Cloudflare's
// validation upload.
const DropReasonProbe = "validation_probe"

// admitWait is how long an upload waits for a free slot before 429. Below
// Cloudflare's 10 s no-progress watchdog, so the sender sees our answer.
const admitWait = 5 * time.Second

// Receiver is the Logpush HTTP receiver. It implements source.Source and
// http.Handler.
type Receiver struct {
	name       string
	cfg        Config
	log        *slog.Logger
	m          *telemetry.Metrics
	datasets   func(string) (string, bool)
	secretSum  [32]byte
	userSum    [32]byte
	passSum    [32]byte
	hasSecret  bool
	hasBasic   bool
	retryAfter string
	sem        chan struct{}
	admitWait  time.Duration
	active     atomic.Int64 // requests in ServeHTTP

	mu     sync.Mutex
	next   event.Consumer
	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc // aborts in-flight consumers when Stop runs out of time
	served chan struct{}      // closed when Serve returns
}

var _ source.Source = (*Receiver)(nil)

// New builds a receiver; Start makes it listen. c must have its defaults
// set.
func New(name string, c Config, deps source.Deps) (*Receiver, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("logpush source %q: %w", name, err)
	}
	rv := &Receiver{
		name:       name,
		cfg:        c,
		log:        deps.Logger,
		m:          deps.Metrics,
		datasets:   deps.Datasets,
		hasSecret:  c.Secret != "",
		hasBasic:   c.BasicAuth.Username != "",
		retryAfter: strconv.Itoa(int(math.Ceil(c.RetryAfter.Seconds()))),
		sem:        make(chan struct{}, c.MaxConcurrent),
		admitWait:  admitWait,
	}
	if rv.log == nil {
		rv.log = slog.New(slog.DiscardHandler)
	}
	if rv.m == nil {
		rv.m = telemetry.NewMetrics()
	}
	if rv.datasets == nil {
		rv.datasets = anyDataset
	}
	rv.secretSum = sha256.Sum256([]byte(c.Secret))
	rv.userSum = sha256.Sum256([]byte(c.BasicAuth.Username))
	rv.passSum = sha256.Sum256([]byte(c.BasicAuth.Password))
	return rv, nil
}

// datasetName is what is accepted as a dataset when no resolver is wired:
// the consumer then decides (event.ErrUnknownDataset -> 404).
var datasetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func anyDataset(name string) (string, bool) { return name, datasetName.MatchString(name) }

// Name implements source.Source.
func (rv *Receiver) Name() string { return rv.name }

// Addr returns the address the receiver listens on ("" before Start). With
// listen ":0" it tells the port chosen.
func (rv *Receiver) Addr() string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.ln == nil {
		return ""
	}
	return rv.ln.Addr().String()
}

// Start listens and serves in the background; it returns once the socket is
// bound (so bind and certificate errors are returned here). ctx only carries
// values to the request contexts: cancelling it does not stop the receiver;
// Stop does.
func (rv *Receiver) Start(ctx context.Context, next event.Consumer) error {
	if next == nil {
		return errors.New("logpush: Start needs a consumer")
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.srv != nil {
		return errors.New("logpush: already started")
	}
	var tlsCfg *tls.Config
	if rv.cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(rv.cfg.TLS.CertFile, rv.cfg.TLS.KeyFile)
		if err != nil {
			return fmt.Errorf("logpush source %q: tls: %w", rv.name, err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", rv.cfg.Listen)
	if err != nil {
		return fmt.Errorf("logpush source %q: %w", rv.name, err)
	}
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:           rv,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: rv.cfg.ReadHeaderTimeout,
		IdleTimeout:       rv.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		// TLS handshake failures from scanners and the like: debug only.
		ErrorLog: slog.NewLogLogger(rv.log.Handler(), slog.LevelDebug),
	}
	rv.next, rv.srv, rv.ln, rv.cancel, rv.served = next, srv, ln, cancel, make(chan struct{})
	go func(served chan struct{}) {
		defer close(served)
		var err error
		if tlsCfg != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			rv.log.Error("logpush receiver stopped", "error", err)
		}
	}(rv.served)
	rv.log.Info("logpush receiver listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil,
		"path", rv.cfg.PathPrefix+"<dataset>", "auth", rv.authKind())
	return nil
}

func (rv *Receiver) authKind() string {
	switch {
	case rv.cfg.InsecureNoAuth:
		return "none (insecure_no_auth)"
	case rv.hasSecret && rv.hasBasic:
		return "secret header " + rv.cfg.SecretHeader + " or basic"
	case rv.hasSecret:
		return "secret header " + rv.cfg.SecretHeader
	}
	return "basic"
}

// Stop stops accepting uploads and waits for those in flight until ctx ends;
// then it cancels their contexts, closes their connections (the sender will
// retry) and returns ctx's error.
func (rv *Receiver) Stop(ctx context.Context) error {
	rv.mu.Lock()
	srv, cancel, served := rv.srv, rv.cancel, rv.served
	rv.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		cancel()
		_ = srv.Close()
	}
	// Shutdown waits for connections to go idle; also wait for handlers
	// that outlived a forced Close (a consumer ignoring its context).
	for rv.active.Load() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	<-served
	if err == nil && rv.active.Load() > 0 {
		err = ctx.Err()
	}
	return err
}

// outcome is what became of one request.
type outcome struct {
	code      int
	msg       string // one line for the response body and the log
	err       error  // internal detail, logged, never sent
	dataset   string
	chunks    int // deliveries consumed
	records   int // non-blank lines in consumed deliveries
	truncated int // lines cut to max_line_bytes
	in        int64
	out       int64
	probe     bool
	retry     bool // send Retry-After
	allow     bool // send Allow
	alive     bool // GET /: not a delivery, not counted
	quiet     bool // an error logged elsewhere, once: debug here
}

// ServeHTTP implements http.Handler.
func (rv *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rv.active.Add(1)
	defer rv.active.Add(-1)
	t0 := time.Now()
	rc := http.NewResponseController(w)
	// The read deadline is moved per chunk and lifted while the consumer
	// works. The write deadline is set just before the response only: on
	// HTTP/2 an expired write deadline resets the stream even while the
	// handler is not writing.
	_ = rc.SetReadDeadline(t0.Add(rv.cfg.ReadTimeout))
	o := rv.handle(r, w, rc, t0)
	rv.respond(w, r, rc, &o, t0)
}

func (rv *Receiver) handle(r *http.Request, w http.ResponseWriter, rc *http.ResponseController, t0 time.Time) outcome {
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return outcome{code: http.StatusOK, msg: "flarehose logpush receiver", alive: true}
	}
	rest, ok := strings.CutPrefix(r.URL.Path, rv.cfg.PathPrefix)
	if !ok {
		return outcome{code: http.StatusNotFound, msg: "not found: Logpush uploads go to POST " + rv.cfg.PathPrefix + "<dataset>"}
	}
	if r.Method != http.MethodPost {
		return outcome{code: http.StatusMethodNotAllowed, msg: "method " + r.Method + " not allowed: use POST", allow: true}
	}
	if !rv.authorized(r) {
		return outcome{code: http.StatusUnauthorized, msg: "missing or wrong credentials"}
	}
	name := strings.TrimSuffix(rest, "/")
	if name == "" || strings.Contains(name, "/") {
		return outcome{code: http.StatusNotFound, msg: "no dataset in path: POST " + rv.cfg.PathPrefix + "<dataset>"}
	}
	dataset, ok := rv.datasets(name)
	if !ok {
		return outcome{code: http.StatusNotFound, msg: fmt.Sprintf("unknown dataset %q", clip(name, 80))}
	}
	o := outcome{dataset: dataset}
	rv.mu.Lock()
	next := rv.next
	rv.mu.Unlock()
	if next == nil { // served before Start (as a bare http.Handler)
		o.code, o.msg, o.retry = http.StatusServiceUnavailable, "not started: retry later", true
		return o
	}
	limit := int64(rv.cfg.MaxBodyBytes)
	if r.ContentLength > limit {
		o.code, o.msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is over max_body_bytes (%d)", r.ContentLength, limit)
		return o
	}

	timer := time.NewTimer(rv.admitWait)
	select {
	case rv.sem <- struct{}{}:
		timer.Stop()
		defer func() { <-rv.sem }()
	case <-timer.C:
		o.code, o.msg, o.retry = http.StatusTooManyRequests, fmt.Sprintf("too many uploads at once (max_concurrent %d): retry later", rv.cfg.MaxConcurrent), true
		return o
	case <-r.Context().Done():
		timer.Stop()
		o.code, o.msg = statusClientClosed, "client went away while waiting for a slot"
		return o
	}

	body := &countingReader{r: http.MaxBytesReader(w, r.Body, limit)}
	o = rv.readAndConsume(r, rc, next, body, o, t0)
	o.in = body.n
	return o
}

// readAndConsume streams the body through the decoder and hands each chunk
// to the consumer.
func (rv *Receiver) readAndConsume(r *http.Request, rc *http.ResponseController, next event.Consumer, body *countingReader, o outcome, t0 time.Time) outcome {
	_ = rc.SetReadDeadline(time.Now().Add(rv.cfg.ReadTimeout))
	dr, err := decode.NewReader(body, r.Header.Get("Content-Encoding"), int64(rv.cfg.MaxDecompressedBytes))
	if err != nil {
		return rv.readFailed(o, err)
	}
	defer dr.Close()
	cr := decode.NewChunkReader(dr, int(rv.cfg.ChunkBytes), int(rv.cfg.MaxLineBytes))
	if n := r.ContentLength; n > 0 {
		if dr.Gzipped() {
			n = min(n, 1<<40) * gzipRatioGuess
		}
		cr.SizeHint(n)
	}
	for first := true; ; first = false {
		_ = rc.SetReadDeadline(time.Now().Add(rv.cfg.ReadTimeout))
		ch, err := cr.Next()
		o.out = dr.N()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rv.readFailed(o, err)
		}
		o.truncated += ch.Truncated
		if first {
			if ch.Last && decode.IsValidationProbe(ch.Data) {
				o.probe = true
				o.code, o.msg = http.StatusOK, "ok: validation upload received"
				return o
			}
			if err := decode.CheckNDJSON(ch.Data); err != nil {
				o.code, o.msg = http.StatusUnsupportedMediaType, err.Error()
				return o
			}
		}
		if ch.Lines == 0 {
			continue // only blank lines: nothing to store
		}
		// No deadline while the consumer works: on HTTP/1 the server reads
		// in the background once the body is done, and a deadline firing
		// there would cancel the request context under the consumer.
		_ = rc.SetReadDeadline(time.Time{})
		d := &event.Delivery{Dataset: o.dataset, Source: rv.name, Origin: r.RemoteAddr, Received: t0, Body: ch.Data, FirstLine: o.records + 1}
		if _, err := next.Consume(r.Context(), d); err != nil {
			return rv.consumeFailed(r, o, err)
		}
		o.chunks++
		o.records += ch.Lines
	}
	o.code, o.msg = http.StatusOK, "ok"
	if o.chunks == 0 {
		o.msg = "ok: empty body"
	}
	return o
}

// gzipRatioGuess sizes the first chunk buffer of a gzip upload from its
// Content-Length: NDJSON logs shrink about 8-12x. A wrong guess costs a copy
// or some memory, never data.
const gzipRatioGuess = 10

// statusClientClosed is recorded (nginx's convention) when the sender went
// away before we could answer; nobody reads the response.
const statusClientClosed = 499

func (rv *Receiver) readFailed(o outcome, err error) outcome {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		o.code, o.msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over max_body_bytes (%d)", mbe.Limit)
	case errors.Is(err, decode.ErrTooLarge):
		o.code, o.msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("decompressed body is over max_decompressed_bytes (%d)", int64(rv.cfg.MaxDecompressedBytes))
	case errors.Is(err, decode.ErrUnsupportedEncoding):
		o.code, o.msg = http.StatusUnsupportedMediaType, err.Error()
	case errors.Is(err, decode.ErrCorrupt):
		o.code, o.msg = http.StatusBadRequest, "bad gzip body: "+err.Error()
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		o.code, o.msg = http.StatusRequestTimeout, fmt.Sprintf("timed out reading the request body (read_timeout %s)", rv.cfg.ReadTimeout)
	case errors.Is(err, io.ErrUnexpectedEOF):
		o.code, o.msg = http.StatusBadRequest, "request body cut short: the connection ended before the whole body arrived"
	default:
		o.code, o.msg, o.err = http.StatusBadRequest, "reading the request body failed", err
	}
	if o.chunks > 0 {
		o.msg += fmt.Sprintf(" (after %d chunk(s) were stored; they will be deduplicated when the upload is retried)", o.chunks)
	}
	return o
}

func (rv *Receiver) consumeFailed(r *http.Request, o outcome, err error) outcome {
	switch {
	case errors.Is(err, event.ErrBackpressure):
		o.code, o.msg, o.retry = http.StatusTooManyRequests, "queue full: retry later", true
	case errors.Is(err, event.ErrClosed):
		o.code, o.msg, o.retry = http.StatusServiceUnavailable, "shutting down: retry later", true
	case errors.Is(err, event.ErrUnavailable):
		// The pipeline logs the disk failure once; one warning per upload
		// would flood the log while Cloudflare retries.
		o.code, o.msg, o.retry, o.err, o.quiet = http.StatusServiceUnavailable, "cannot store right now (disk full or failing): retry later", true, err, true
	case errors.Is(err, event.ErrUnknownDataset):
		o.code, o.msg = http.StatusNotFound, fmt.Sprintf("unknown dataset %q", o.dataset)
	case errors.Is(err, decode.ErrNotNDJSON):
		o.code, o.msg = http.StatusUnsupportedMediaType, err.Error()
	case r.Context().Err() != nil:
		o.code, o.msg, o.err = statusClientClosed, "client went away while the upload was being stored", err
	default:
		o.code, o.msg, o.err = http.StatusInternalServerError, "storing the records failed: retry later", err
	}
	if o.chunks > 0 {
		o.msg += fmt.Sprintf(" (after %d chunk(s) were stored; they will be deduplicated when the upload is retried)", o.chunks)
	}
	return o
}

func (rv *Receiver) authorized(r *http.Request) bool {
	if rv.cfg.InsecureNoAuth {
		return true
	}
	if rv.hasSecret {
		if v := r.Header.Get(rv.cfg.SecretHeader); v != "" {
			sum := sha256.Sum256([]byte(v))
			if subtle.ConstantTimeCompare(sum[:], rv.secretSum[:]) == 1 {
				return true
			}
		}
	}
	if rv.hasBasic {
		if u, p, ok := r.BasicAuth(); ok {
			us, ps := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
			return subtle.ConstantTimeCompare(us[:], rv.userSum[:])&subtle.ConstantTimeCompare(ps[:], rv.passSum[:]) == 1
		}
	}
	return false
}

func (rv *Receiver) respond(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, o *outcome, t0 time.Time) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if o.allow {
		h.Set("Allow", http.MethodPost)
	}
	if o.code == http.StatusUnauthorized && rv.hasBasic {
		h.Set("WWW-Authenticate", `Basic realm="flarehose", charset="UTF-8"`)
	}
	if o.retry {
		h.Set("Retry-After", rv.retryAfter)
	}
	_ = rc.SetWriteDeadline(time.Now().Add(rv.cfg.WriteTimeout))
	w.WriteHeader(o.code)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, o.msg+"\n")
	}
	if o.alive {
		return
	}

	elapsed := time.Since(t0)
	rv.m.SourceRequests.WithLabelValues(rv.name, strconv.Itoa(o.code)).Inc()
	if o.in > 0 {
		rv.m.SourceBytes.WithLabelValues(rv.name).Add(float64(o.in))
	}
	if o.probe {
		rv.m.RecordsDropped.WithLabelValues(o.dataset, DropReasonProbe).Inc()
	}
	if o.code == http.StatusOK && o.chunks > 0 {
		rv.m.AckLatency.WithLabelValues(rv.name).Observe(elapsed.Seconds())
	}

	attrs := []slog.Attr{
		slog.Int("status", o.code),
		slog.String("method", r.Method),
		slog.String("path", clip(r.URL.Path, 200)),
		slog.String("remote", r.RemoteAddr),
		slog.Int64("bytes", o.in),
		slog.Int64("decompressed", o.out),
		slog.Int("chunks", o.chunks),
		slog.Int("records", o.records),
		slog.Duration("duration", elapsed),
	}
	if o.dataset != "" {
		attrs = append(attrs, slog.String("dataset", o.dataset))
	}
	if o.truncated > 0 {
		attrs = append(attrs, slog.Int("truncated_lines", o.truncated))
	}
	if o.probe {
		attrs = append(attrs, slog.Bool("validation_probe", true))
	}
	ctx := context.WithoutCancel(r.Context())
	switch {
	case o.code >= 400 && o.code != statusClientClosed && !o.quiet:
		attrs = append(attrs, slog.String("reason", o.msg))
		if o.err != nil {
			attrs = append(attrs, slog.String("error", o.err.Error()))
		}
		rv.log.LogAttrs(ctx, slog.LevelWarn, "logpush request rejected", attrs...)
	case o.truncated > 0:
		rv.log.LogAttrs(ctx, slog.LevelWarn, "logpush request had lines over max_line_bytes; they go to the dead letters", attrs...)
	default:
		if o.err != nil {
			attrs = append(attrs, slog.String("error", o.err.Error()))
		}
		rv.log.LogAttrs(ctx, slog.LevelDebug, "logpush request", attrs...)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
