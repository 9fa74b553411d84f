package sim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flarehose/flarehose/internal/objstore"
)

// Job is a Logpush job: the subset of the job object (PROTOCOL.md §6.2)
// that shapes deliveries.
type Job struct {
	ID      int    // for logs only
	Name    string // for logs only
	Dataset string // e.g. "http_requests"
	// Zone restricts a zone dataset to one built-in zone (its name), as a
	// zone-scoped job would be; empty means all zones. Ignored for account
	// datasets.
	Zone            string
	DestinationConf string
	Output          OutputOptions
	// Batch limits; a batch is sent when the first is reached. Unlike the
	// API, the simulator takes values below Cloudflare's minimums, so tests
	// can use small batches.
	MaxUploadRecords  int           // 0: 100,000 (Cloudflare's default)
	MaxUploadBytes    int           // uncompressed; 0: no limit
	MaxUploadInterval time.Duration // 0: 30 s
}

// Mode is how a Pusher produces records.
type Mode int

const (
	// ModeCount generates PushOptions.Records records stamped with the
	// current time, as fast as the destination takes them (benchmarks,
	// tests).
	ModeCount Mode = iota
	// ModeRealtime generates PushOptions.Rate records per second, stamped
	// now, until the context ends (or Records were generated).
	ModeRealtime
	// ModeBackfill generates records with timestamps spread over a past
	// window with a day-shaped rate, oldest first, as fast as the
	// destination takes them: a day of traffic in seconds.
	ModeBackfill
)

// ProbeMode is the validation upload made before the first batch.
type ProbeMode int

const (
	ProbeContent ProbeMode = iota // gzip of {"content":"tests"} (the docs)
	ProbeTest                     // gzip of "test" (seen by the OpenTelemetry receiver)
	ProbeNone                     // no probe
)

// PushOptions tunes a Pusher. The zero value pushes 1,000 records once.
type PushOptions struct {
	Mode    Mode
	Records int     // ModeCount: records to generate (default 1000); ModeBackfill: records over the window (default Rate × Window); ModeRealtime: stop after this many (0: never)
	Rate    float64 // ModeRealtime: records per second (default 100); ModeBackfill: average rate when Records is 0 (default 10)
	Window  time.Duration
	End     time.Time // ModeBackfill: the window is [End-Window, End); defaults 24 h and now
	// BackfillSpan caps how much data time one backfill upload covers
	// (Cloudflare caps catch-up uploads at about 2 minutes of logs).
	// Default 2 minutes.
	BackfillSpan time.Duration

	Seed      uint64
	Generator Generator // overrides the generator made from Job.Dataset, Job.Zone and Seed
	// FollowTraffic makes a firewall_events job (a Stepper) follow the zone
	// traffic in ModeBackfill and ModeRealtime: Records and Rate then count
	// requests, not events, and each event carries its request's timestamp.
	// A firewall_events job and an http_requests job run with the same
	// options (Seed, Window, End, Records or Rate) then agree on every RayID
	// and instant. Without it, Records and Rate count events, like for any
	// other dataset.
	FollowTraffic bool

	// Bucket makes the job write to object storage: DestinationConf is then
	// an s3://, r2://, gs:// or azure:// destination_conf whose path (with
	// {DATE}) names the objects (PROTOCOL.md §3.2), and Bucket is the
	// bucket or container it names, opened by the caller with the
	// credentials Cloudflare would use. Client, InsecureSkipVerify and
	// Retry-After do not apply.
	Bucket objstore.Bucket

	Concurrency        int          // parallel uploads (default 1)
	Client             *http.Client // default: Cloudflare-like timeouts, no proxy
	InsecureSkipVerify bool         // for the default client: accept any TLS certificate (local demos)
	Timeout            time.Duration
	MaxAttempts        int           // tries per batch, the first included (default 5)
	Backoff            time.Duration // wait before the first retry (default 1 s), doubling each time
	MaxBackoff         time.Duration // default 1 minute
	MaxRetryAfter      time.Duration // longest Retry-After honoured (default 5 minutes)
	// DisableAfter disables the job (Run returns ErrJobDisabled) after this
	// long without a successful upload while uploads fail; Cloudflare uses
	// 24 hours. 0 never disables.
	DisableAfter time.Duration
	Probe        ProbeMode
	GzipLevel    int // default gzip.DefaultCompression
	Logger       *slog.Logger
	Now          func() time.Time // clock for record timestamps and job times; default time.Now
}

// Stats are a Pusher's counters; LastError and ErrorMessage mirror the job
// object's last_error and error_message and clear after the next success.
type Stats struct {
	Probed            bool  // the validation upload succeeded
	RecordsGenerated  int64 // records the generator produced
	RecordsSampledOut int64 // dropped by sample_rate
	RecordsSent       int64 // in batches the destination accepted
	RecordsDropped    int64 // in batches given up after every attempt failed
	BatchesSent       int64
	BatchesFailed     int64
	Attempts          int64 // upload attempts, probe excluded
	Retries           int64
	BytesSent         int64 // gzip bytes of accepted batches
	BytesUncompressed int64 // uncompressed bytes of accepted batches
	LastComplete      time.Time
	LastError         time.Time
	ErrorMessage      string
	Enabled           bool
}

// ErrJobDisabled is returned by Run when uploads kept failing for
// PushOptions.DisableAfter.
var ErrJobDisabled = errors.New("logpush job disabled after continuous upload failures")

// Pusher runs one Logpush job against its HTTP or object storage
// destination.
type Pusher struct {
	job    Job
	opts   PushOptions
	dest   *Destination // HTTP destinations
	obj    *objectDest  // object storage destinations
	format *Format
	gen    Generator
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error // tests replace it
	bufs   sync.Pool
	once   atomic.Bool
	cancel context.CancelCauseFunc

	recordsGenerated, recordsSampledOut, recordsSent, recordsDropped atomic.Int64
	batchesSent, batchesFailed, attempts, retries                    atomic.Int64
	bytesSent, bytesUncompressed                                     atomic.Int64

	mu           sync.Mutex
	probed       bool
	lastComplete time.Time
	lastError    time.Time
	errorMessage string
	failingSince time.Time
	disabled     bool
}

// NewPusher checks the job (dataset, output options, destination) and
// returns a pusher for it.
func NewPusher(job Job, opts PushOptions) (*Pusher, error) {
	var (
		dest *Destination
		obj  *objectDest
		err  error
	)
	if opts.Bucket != nil {
		obj, err = newObjectDest(job.DestinationConf, opts.Bucket)
	} else {
		dest, err = ParseDestination(job.DestinationConf)
	}
	if err != nil {
		return nil, err
	}
	format, err := NewFormat(job.Dataset, job.Output)
	if err != nil {
		return nil, err
	}
	if job.MaxUploadRecords < 0 || job.MaxUploadBytes < 0 || job.MaxUploadInterval < 0 {
		return nil, errors.New("max_upload_* must not be negative")
	}
	if job.MaxUploadRecords == 0 {
		job.MaxUploadRecords = 100000
	}
	if job.MaxUploadInterval == 0 {
		job.MaxUploadInterval = 30 * time.Second
	}
	gen := opts.Generator
	if gen == nil {
		cfg := Config{Seed: opts.Seed}
		if scope, _ := DatasetScope(job.Dataset); scope == ScopeZone && job.Zone != "" {
			cfg.Zones = []string{job.Zone}
		}
		if gen, err = NewGeneratorConfig(job.Dataset, cfg); err != nil {
			return nil, err
		}
	} else if gen.Dataset() != job.Dataset {
		return nil, fmt.Errorf("generator for %s given for a %s job", gen.Dataset(), job.Dataset)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = 5 * time.Minute
	}
	if opts.GzipLevel == 0 {
		opts.GzipLevel = gzip.DefaultCompression
	}
	if opts.Window <= 0 {
		opts.Window = 24 * time.Hour
	}
	if opts.BackfillSpan <= 0 {
		opts.BackfillSpan = 2 * time.Minute
	}
	switch opts.Mode {
	case ModeCount:
		if opts.Records <= 0 {
			opts.Records = 1000
		}
	case ModeRealtime:
		if opts.Rate <= 0 {
			opts.Rate = 100
		}
	case ModeBackfill:
		if opts.Records <= 0 {
			rate := opts.Rate
			if rate <= 0 {
				rate = 10
			}
			opts.Records = int(rate * opts.Window.Seconds())
		}
	default:
		return nil, fmt.Errorf("unknown mode %d", opts.Mode)
	}
	p := &Pusher{job: job, opts: opts, dest: dest, obj: obj, format: format, gen: gen, client: opts.Client, log: opts.Logger, now: opts.Now}
	if p.client == nil && obj == nil {
		p.client = defaultClient(opts)
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.sleep = sleepCtx
	p.bufs.New = func() any { return new([]byte) }
	return p, nil
}

// defaultClient mirrors Logpush's upload timeouts: 5 s to connect, 5 s for
// the TLS handshake. It uses no proxy and does not ask for compressed
// responses.
func defaultClient(opts PushOptions) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: opts.Concurrency + 1,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		DisableCompression:  true,
	}
	if opts.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in, for local demos
	}
	return &http.Client{Transport: tr}
}

// Job returns the job with its defaults filled in.
func (p *Pusher) Job() Job { return p.job }

// Destination returns the parsed HTTP destination, nil for an object
// storage job.
func (p *Pusher) Destination() *Destination { return p.dest }

// Stats returns a snapshot of the counters. It is safe to call while Run
// runs.
func (p *Pusher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		Probed:            p.probed,
		RecordsGenerated:  p.recordsGenerated.Load(),
		RecordsSampledOut: p.recordsSampledOut.Load(),
		RecordsSent:       p.recordsSent.Load(),
		RecordsDropped:    p.recordsDropped.Load(),
		BatchesSent:       p.batchesSent.Load(),
		BatchesFailed:     p.batchesFailed.Load(),
		Attempts:          p.attempts.Load(),
		Retries:           p.retries.Load(),
		BytesSent:         p.bytesSent.Load(),
		BytesUncompressed: p.bytesUncompressed.Load(),
		LastComplete:      p.lastComplete,
		LastError:         p.lastError,
		ErrorMessage:      p.errorMessage,
		Enabled:           !p.disabled,
	}
}

// Run sends the validation probe, then generates records and uploads them
// in batches until the mode's work is done (nil), ctx ends (ctx's error),
// or the job gets disabled (ErrJobDisabled). A failed probe fails Run the
// way it fails job creation. Batches still queued when ctx ends are
// abandoned. Run may be called once.
func (p *Pusher) Run(ctx context.Context) error {
	if !p.once.CompareAndSwap(false, true) {
		return errors.New("sim: Pusher.Run called twice")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p.cancel = cancel

	if err := p.probe(ctx); err != nil {
		return fmt.Errorf("error validating destination: error writing object: error uploading: %w", err)
	}
	batches := make(chan *upload, p.opts.Concurrency)
	var wg sync.WaitGroup
	for range p.opts.Concurrency {
		wg.Go(func() { p.uploader(ctx, batches) })
	}
	err := p.produce(ctx, batches)
	close(batches)
	wg.Wait()
	if cause := context.Cause(ctx); errors.Is(cause, ErrJobDisabled) {
		return ErrJobDisabled
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// upload is one batch on its way to the destination.
type upload struct {
	body        *[]byte
	records     int
	first, last time.Time // data time of the first and last record (object keys)
}

// produce generates records into batches and queues them.
func (p *Pusher) produce(ctx context.Context, out chan<- *upload) error {
	w := NewBatchWriter(p.format, p.opts.Seed)
	w.reset(*p.bufs.Get().(*[]byte))
	var (
		carry      []byte    // a record moved to the next batch (bytes limit)
		batchStart time.Time // wall clock when the batch got its first record
		firstTS    time.Time // data time of the batch's first record
		lastTS     time.Time // data time of the batch's last record
		generated  int
	)
	flush := func() error {
		if w.Records() == 0 {
			return nil
		}
		next := p.bufs.Get().(*[]byte)
		n := w.Records()
		body := w.detach(*next)
		*next = body
		select {
		case out <- &upload{body: next, records: n, first: firstTS, last: lastTS}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// With FollowTraffic a Stepper (firewall_events) follows the traffic:
	// the timeline stamps requests, and each request yields its records.
	stepper, _ := p.gen.(Stepper)
	if p.opts.Mode == ModeCount || !p.opts.FollowTraffic {
		stepper = nil
	}
	// addRecord generates one record and applies the batch limits.
	addRecord := func(t time.Time) error {
		if w.Records() > 0 && p.opts.Mode == ModeBackfill && t.Sub(firstTS) >= p.opts.BackfillSpan {
			if err := flush(); err != nil {
				return err
			}
		}
		p.recordsGenerated.Add(1)
		if !w.Add(p.gen, t) {
			p.recordsSampledOut.Add(1)
			return nil
		}
		if w.Records() == 1 {
			batchStart, firstTS = p.now(), t
		}
		// Timestamps never go backwards, so the batch's window is
		// [firstTS, lastTS]; prevTS ends it when t moves to the next batch.
		prevTS := lastTS
		lastTS = t
		if p.job.MaxUploadBytes > 0 && w.Len() > p.job.MaxUploadBytes && w.Records() > 1 {
			carry = w.popLast(carry)
			lastTS = prevTS
			if err := flush(); err != nil {
				return err
			}
			w.addRaw(carry)
			batchStart, firstTS, lastTS = p.now(), t, t
		}
		if w.Records() >= p.job.MaxUploadRecords {
			return flush()
		}
		return nil
	}
	add := addRecord
	if stepper != nil {
		add = func(t time.Time) error {
			for range stepper.Step(t) {
				if err := addRecord(t); err != nil {
					return err
				}
			}
			return nil
		}
	}
	intervalDue := func() bool {
		return w.Records() > 0 && p.now().Sub(batchStart) >= p.job.MaxUploadInterval
	}
	// step stamps one step t; every 256 steps it also checks ctx and flushes
	// a batch older than max_upload_interval.
	step := func(t time.Time) error {
		generated++
		if err := add(t); err != nil {
			return err
		}
		if generated%256 != 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if intervalDue() {
			return flush()
		}
		return nil
	}

	switch p.opts.Mode {
	case ModeCount:
		for generated < p.opts.Records {
			if err := step(p.now()); err != nil {
				return err
			}
		}
	case ModeBackfill:
		end := p.opts.End
		if end.IsZero() {
			end = p.now()
		}
		tl := newDiurnal(end.Add(-p.opts.Window), end, p.opts.Records, p.opts.Seed)
		for t, ok := tl.next(); ok; t, ok = tl.next() {
			if err := step(t); err != nil {
				return err
			}
		}
	case ModeRealtime:
		tick := time.Duration(float64(time.Second) / p.opts.Rate)
		tick = min(max(tick, 10*time.Millisecond), 100*time.Millisecond)
		ticker := time.NewTicker(tick)
		defer ticker.Stop()
		start := p.now()
		prev := start
		for p.opts.Records == 0 || generated < p.opts.Records {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ticker.C:
			}
			now := p.now()
			due := int(p.opts.Rate*now.Sub(start).Seconds()) - generated
			if p.opts.Records > 0 {
				due = min(due, p.opts.Records-generated)
			}
			for i := range due {
				// Spread the tick's records over the time since the last tick.
				if err := step(prev.Add(now.Sub(prev) * time.Duration(i+1) / time.Duration(due))); err != nil {
					return err
				}
			}
			prev = now
			if intervalDue() {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// uploader compresses and delivers batches until the channel closes.
func (p *Pusher) uploader(ctx context.Context, in <-chan *upload) {
	var zbuf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zbuf, p.opts.GzipLevel)
	for u := range in {
		if ctx.Err() == nil {
			zbuf.Reset()
			zw.Reset(&zbuf)
			zw.Write(*u.body)
			zw.Close()
			key := ""
			if p.obj != nil {
				key = BatchObjectKey(p.obj.path, u.first, u.last, batchHash(p.job.ID, *u.body))
			}
			p.deliver(ctx, zbuf.Bytes(), len(*u.body), u.records, key)
		}
		*u.body = (*u.body)[:0]
		p.bufs.Put(u.body)
	}
}

// deliver uploads one compressed batch with retries: a POST to an HTTP
// destination, or a put of object key.
func (p *Pusher) deliver(ctx context.Context, body []byte, rawLen, records int, key string) {
	for attempt := 1; ; attempt++ {
		p.attempts.Add(1)
		status, retryAfter, failure := p.send(ctx, key, body)
		if failure == "" {
			p.recordsSent.Add(int64(records))
			p.batchesSent.Add(1)
			p.bytesSent.Add(int64(len(body)))
			p.bytesUncompressed.Add(int64(rawLen))
			p.mu.Lock()
			p.lastComplete, p.lastError, p.errorMessage, p.failingSince = p.now(), time.Time{}, "", time.Time{}
			p.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			return // cancelled: neither sent nor failed
		}
		p.noteFailure()
		if attempt >= p.opts.MaxAttempts {
			p.batchesFailed.Add(1)
			p.recordsDropped.Add(int64(records))
			p.mu.Lock()
			p.lastError, p.errorMessage = p.now(), p.jobError(failure)
			p.mu.Unlock()
			p.log.Warn("logpush batch dropped", "job", p.job.Name, "records", records, "attempts", attempt, "error", failure)
			return
		}
		wait := min(p.opts.Backoff<<(attempt-1), p.opts.MaxBackoff)
		if retryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
			wait = min(retryAfter, p.opts.MaxRetryAfter)
		}
		p.retries.Add(1)
		p.log.Debug("logpush upload failed, retrying", "job", p.job.Name, "attempt", attempt, "wait", wait, "error", failure)
		if p.sleep(ctx, wait) != nil {
			return
		}
	}
}

// noteFailure tracks continuous failure and disables the job after
// DisableAfter.
func (p *Pusher) noteFailure() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.failingSince.IsZero() {
		p.failingSince = now
	}
	if p.opts.DisableAfter > 0 && !p.disabled && now.Sub(p.failingSince) >= p.opts.DisableAfter {
		p.disabled = true
		p.cancel(ErrJobDisabled)
	}
}

var (
	probeContent = gzipOnce([]byte(`{"content":"tests"}`))
	probeTest    = gzipOnce([]byte("test"))
)

func gzipOnce(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// probe makes the validation upload.
func (p *Pusher) probe(ctx context.Context) error {
	var body []byte
	switch p.opts.Probe {
	case ProbeNone:
		return nil
	case ProbeTest:
		body = probeTest
	default:
		body = probeContent
	}
	key := ""
	if p.obj != nil {
		key = ValidationObjectKey(p.obj.path, p.now())
	}
	if _, _, failure := p.send(ctx, key, body); failure != "" {
		p.mu.Lock()
		p.lastError, p.errorMessage = p.now(), p.jobError(failure)
		p.mu.Unlock()
		return errors.New(failure)
	}
	p.mu.Lock()
	p.probed = true
	p.mu.Unlock()
	return nil
}

// send makes one upload attempt: put key for an object storage job, POST
// otherwise.
func (p *Pusher) send(ctx context.Context, key string, body []byte) (status int, retryAfter time.Duration, failure string) {
	if p.obj != nil {
		return 0, 0, p.put(ctx, key, body)
	}
	return p.post(ctx, body)
}

// put writes one object. failure is "" on success, otherwise the store's
// error with the destination_conf's secrets removed.
func (p *Pusher) put(ctx context.Context, key string, body []byte) (failure string) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	if err := p.obj.bucket.Put(ctx, key, body, objstore.PutOptions{ContentType: "application/gzip"}); err != nil {
		return p.obj.redact(err)
	}
	return ""
}

// post makes one upload attempt. failure is "" on a 2xx answer, otherwise
// what went wrong ("415 {body...}", a transport error).
func (p *Pusher) post(ctx context.Context, body []byte) (status int, retryAfter time.Duration, failure string) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.dest.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err.Error()
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	for k, vs := range p.dest.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, 0, redactErr(err, p.dest.URL)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, ""
	}
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), p.now()),
		strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + strings.TrimSpace(string(snippet)))
}

// jobError is the job's error_message for a failed upload, in
// Cloudflare's words.
func (p *Pusher) jobError(failure string) string {
	if p.obj != nil {
		return "error pushing: error uploading to " + p.obj.scheme + ": " + failure
	}
	scheme, _, _ := strings.Cut(p.dest.URL, ":")
	return "error pushing: error uploading to " + scheme + ": " + failure
}

// redactErr keeps URLs in transport errors free of query strings (they may
// carry secrets).
func redactErr(err error, url string) string {
	s := err.Error()
	if base, _, ok := strings.Cut(url, "?"); ok {
		s = strings.ReplaceAll(s, url, base+"?...")
	}
	return s
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
