// Package api is flarehose's HTTP server for people and tools: the search API
// used by the web UI and the CLI, the embedded web UI itself, and
// self-monitoring endpoints (/metrics, /healthz, /readyz).
//
// Every search endpoint takes the same filter parameters (see ParseRequest)
// and answers JSON; errors are {"error": "..."} with 400 for bad parameters
// and query syntax errors, 503 when no store is configured, 504 when a search
// timed out and 500 otherwise.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/telemetry"
	"github.com/flarehose/flarehose/internal/ui"
)

// DefaultAddr is where the server listens unless configured otherwise.
const DefaultAddr = "127.0.0.1:8080"

// DefaultSearchTimeout bounds one engine call unless Options.SearchTimeout
// says otherwise, so a runaway query cannot hold the store forever; the
// caller going away cancels it earlier.
const DefaultSearchTimeout = 2 * time.Minute

// Options configures the handler. Every field may be left zero.
type Options struct {
	// Engine answers searches; nil when no searchable store is configured,
	// in which case the search endpoints answer 503.
	Engine search.Engine
	// Datasets returns the number of stored events per dataset; nil = 503.
	Datasets func(ctx context.Context) ([]search.Count, error)
	// Metrics is served at /metrics in the Prometheus text format.
	Metrics *telemetry.Metrics
	// Ready reports whether flarehose is ready to take traffic (/readyz).
	Ready   func() error
	Logger  *slog.Logger
	Version string
	// AllowedHosts, when not empty, lists the host names (without port)
	// requests may be addressed to; others get 421. IP literals and
	// "localhost" are always allowed. It defends a server on a loopback or
	// private address against DNS rebinding (a web page whose name resolves
	// to 127.0.0.1 reading the logs); nil allows every Host, as a reverse
	// proxy that forwards the public name needs.
	AllowedHosts []string
	// SearchTimeout bounds each engine call; 0 = DefaultSearchTimeout.
	SearchTimeout time.Duration
	// Now is the clock used for relative times; time.Now when nil (tests).
	Now func() time.Time

	// DeadLetterDir is the dead-letter directory served at
	// GET /api/deadletters; "" answers 503.
	DeadLetterDir string
}

type server struct {
	o       Options
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration
}

// NewHandler returns the HTTP handler serving the API, the UI and the
// self-monitoring endpoints.
func NewHandler(o Options) http.Handler {
	s := &server{o: o, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout = o.SearchTimeout; s.timeout <= 0 {
		s.timeout = DefaultSearchTimeout
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/search", s.handleSearch)
	mux.HandleFunc("GET /api/histogram", s.handleHistogram)
	mux.HandleFunc("GET /api/top", s.handleTop)
	mux.HandleFunc("GET /api/datasets", s.handleDatasets)
	mux.HandleFunc("GET /api/version", s.handleVersion)
	mux.HandleFunc("GET /api/deadletters", s.handleDeadLetters)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "the API is read-only: use GET")
			return
		}
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", s.handleReady)
	if o.Metrics != nil && o.Metrics.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelError),
			ErrorHandling:     promhttp.ContinueOnError,
			EnableOpenMetrics: false,
		}))
	} else {
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
			writeText(w, http.StatusServiceUnavailable, "metrics are not configured")
		})
	}
	mux.Handle("/", ui.Handler())
	var h http.Handler = mux
	if len(o.AllowedHosts) > 0 {
		h = checkHost(o.AllowedHosts, h)
	}
	return securityHeaders(h)
}

// checkHost answers 421 Misdirected Request unless the Host header names an
// allowed host, an IP literal or localhost.
func checkHost(allowed []string, next http.Handler) http.Handler {
	ok := map[string]bool{"localhost": true}
	for _, h := range allowed {
		ok[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
		if _, err := netip.ParseAddr(host); err != nil && !ok[host] {
			writeError(w, http.StatusMisdirectedRequest, "host "+strconv.Quote(r.Host)+" is not served here")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows nothing but this origin: no inline scripts or
// styles, no external hosts, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		next.ServeHTTP(w, r)
	})
}

// engine returns the search engine or answers 503.
func (s *server) engine(w http.ResponseWriter) search.Engine {
	if s.o.Engine == nil {
		writeError(w, http.StatusServiceUnavailable, "search is not available: no searchable store is configured (enable the embedded DuckDB store)")
		return nil
	}
	return s.o.Engine
}

func (s *server) handleSearch(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	req, err := ParseRequest(r.URL.Query(), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	eng := s.engine(w)
	if eng == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	start := time.Now()
	res, err := eng.Search(ctx, req)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	out := searchResponse{Hits: []search.Hit{}, window: makeWindow(req, now)}
	if res != nil {
		out.Total = res.Total
		out.Took = res.Took
		if res.Hits != nil {
			out.Hits = res.Hits
		}
		for i := range out.Hits {
			if d := out.Hits[i].Doc; !json.Valid(d) {
				// Keep the page usable: show the bytes as a string.
				s.log.Warn("stored document is not valid JSON", "dataset", out.Hits[i].Dataset, "id", out.Hits[i].ID)
				out.Hits[i].Doc, _ = json.Marshal(string(d))
			}
		}
	}
	if out.Took <= 0 {
		out.Took = ms(time.Since(start))
	}
	writeJSON(w, http.StatusOK, out)
}

// searchResponse is search.Result (hits never null) plus the time window
// the search covered.
type searchResponse struct {
	Total int64        `json:"total"`
	Hits  []search.Hit `json:"hits"`
	Took  float64      `json:"took_ms"`
	window
}

type histogramResponse struct {
	Interval int64           `json:"interval_ms"`
	Buckets  []search.Bucket `json:"buckets"`
	Took     float64         `json:"took_ms"`
	window
}

// window tells the client which absolute times a relative range resolved
// to, and the server's clock: the UI pins later pages to it and draws the
// histogram's axis from it.
type window struct {
	Since string `json:"since,omitempty"` // resolved since; absent = unbounded
	Until string `json:"until,omitempty"` // resolved until; absent = unbounded
	Now   string `json:"now"`             // when the request was resolved
}

func makeWindow(r search.Request, now time.Time) window {
	w := window{Now: now.UTC().Format(time.RFC3339Nano)}
	if !r.Since.IsZero() {
		w.Since = r.Since.UTC().Format(time.RFC3339Nano)
	}
	if !r.Until.IsZero() {
		w.Until = r.Until.UTC().Format(time.RFC3339Nano)
	}
	return w
}

func (s *server) handleHistogram(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	now := s.now()
	req, err := parseCommon(v, now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := intParam(v, "buckets", DefaultBuckets, 1, MaxBuckets, true)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	eng := s.engine(w)
	if eng == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	start := time.Now()
	buckets, interval, err := eng.Histogram(ctx, req, n)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	if buckets == nil {
		buckets = []search.Bucket{}
	}
	writeJSON(w, http.StatusOK, histogramResponse{
		Interval: interval.Milliseconds(),
		Buckets:  buckets,
		Took:     ms(time.Since(start)),
		window:   makeWindow(req, now),
	})
}

type topResponse struct {
	Field  string         `json:"field"`
	Values []search.Count `json:"values"`
	Took   float64        `json:"took_ms"`
}

func (s *server) handleTop(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req, err := parseCommon(v, s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	field := v.Get("field")
	if field == "" {
		writeError(w, http.StatusBadRequest, "field: required (an ECS field name such as source.ip)")
		return
	}
	if err := search.CheckField(field); err != nil {
		writeError(w, http.StatusBadRequest, "field: "+err.Error())
		return
	}
	limit, err := intParam(v, "limit", DefaultTopLimit, 1, MaxTopLimit, true)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	eng := s.engine(w)
	if eng == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	start := time.Now()
	vals, err := eng.Top(ctx, req, field, limit)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	if vals == nil {
		vals = []search.Count{}
	}
	writeJSON(w, http.StatusOK, topResponse{Field: field, Values: vals, Took: ms(time.Since(start))})
}

func (s *server) handleDatasets(w http.ResponseWriter, r *http.Request) {
	if s.o.Datasets == nil {
		writeError(w, http.StatusServiceUnavailable, "dataset counts are not available: no searchable store is configured")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	counts, err := s.o.Datasets(ctx)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	if counts == nil {
		counts = []search.Count{}
	}
	writeJSON(w, http.StatusOK, struct {
		Datasets []search.Count `json:"datasets"`
	}{counts})
}

func (s *server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	v := s.o.Version
	if v == "" {
		v = "dev"
	}
	writeJSON(w, http.StatusOK, struct {
		Version string `json:"version"`
		Go      string `json:"go"`
		Search  bool   `json:"search"` // whether a searchable store is configured
	}{v, runtime.Version(), s.o.Engine != nil})
}

func (s *server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if s.o.Ready != nil {
		if err := s.o.Ready(); err != nil {
			writeText(w, http.StatusServiceUnavailable, err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ok")
}

// engineError answers an error from the engine with the right status; see
// ErrorStatus.
func (s *server) engineError(w http.ResponseWriter, r *http.Request, err error) {
	code := ErrorStatus(r.Context(), err)
	switch {
	case code == statusClientClosed:
		s.log.Debug("search canceled by the client", "path", r.URL.Path, "err", err)
		w.WriteHeader(code) // nobody is listening
		return
	case code >= 500:
		s.log.Error("search failed", "path", r.URL.Path, "query", r.URL.Query().Get("q"), "err", err)
	default:
		s.log.Debug("bad search", "path", r.URL.Path, "err", err)
	}
	msg := err.Error()
	if code == http.StatusGatewayTimeout {
		msg = "search timed out after " + s.timeout.String() + ": narrow the time range or the query (" + msg + ")"
	}
	writeError(w, code, msg)
}

// statusClientClosed is nginx's "client closed request": logged, never seen.
const statusClientClosed = 499

// ErrorStatus maps an error from a search.Engine to an HTTP status:
//
//   - 504 when the search ran out of time (context.DeadlineExceeded),
//   - 499 when the client went away (context.Canceled with ctx done),
//   - 400 when the query is at fault (see IsQueryError: errors matching
//     search.ErrInvalidQuery, such as *search.ParseError),
//   - 500 for everything else (the store failed).
func ErrorStatus(ctx context.Context, err error) int {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled) && ctx != nil && ctx.Err() != nil:
		return statusClientClosed
	case IsQueryError(err):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// e.g. a stored document that is not valid JSON
		buf.Reset()
		code = http.StatusInternalServerError
		_ = enc.Encode(struct {
			Error string `json:"error"`
		}{"encoding the response: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, struct {
		Error string `json:"error"`
	}{msg})
}

func writeText(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg + "\n"))
}
