package cfapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flarehose/flarehose/internal/objstore"
	"github.com/flarehose/flarehose/internal/sim"
)

// Logpush jobs (PROTOCOL.md §6): the job object, its validation and the
// CRUD endpoints. runner.go starts and stops the pushers of enabled jobs.

type job struct {
	id              int
	scope           scope
	dataset         string
	name            *string
	kind            string
	enabled         bool
	destinationConf string
	frequency       *string
	logpullOptions  *string
	outputOptions   map[string]json.RawMessage // as stored: only the keys given
	filter          *string
	maxBytes        *int
	maxRecords      *int
	maxInterval     *int
	mergeSubs       *bool
	transformerID   json.RawMessage
	lastComplete    time.Time
	lastError       time.Time
	errorMessage    string
	run             *jobRun
}

// jobView is the job object as the API returns it (§6.2): the keys of the
// docs' and OA24's examples, optional ones only when set.
type jobView struct {
	ID                       int             `json:"id"`
	Dataset                  *string         `json:"dataset"`
	Enabled                  bool            `json:"enabled"`
	Name                     *string         `json:"name"`
	Kind                     string          `json:"kind"`
	DestinationConf          string          `json:"destination_conf"`
	Frequency                *string         `json:"frequency,omitempty"`
	LogpullOptions           *string         `json:"logpull_options,omitempty"`
	OutputOptions            any             `json:"output_options"`
	Filter                   *string         `json:"filter,omitempty"`
	MaxUploadBytes           *int            `json:"max_upload_bytes,omitempty"`
	MaxUploadRecords         *int            `json:"max_upload_records,omitempty"`
	MaxUploadIntervalSeconds *int            `json:"max_upload_interval_seconds,omitempty"`
	MergeSubrequests         *bool           `json:"merge_subrequests,omitempty"`
	TransformerID            json.RawMessage `json:"transformer_id,omitempty"`
	LastComplete             *string         `json:"last_complete"`
	LastError                *string         `json:"last_error"`
	ErrorMessage             *string         `json:"error_message"`
}

func timeOrNull(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// viewLocked renders the job; the caller holds s.mu.
func (j *job) viewLocked() *jobView {
	j.syncLocked()
	ds := j.dataset
	v := &jobView{ID: j.id, Dataset: &ds, Enabled: j.enabled, Name: j.name, Kind: j.kind, DestinationConf: j.destinationConf,
		Frequency: j.frequency, LogpullOptions: j.logpullOptions, Filter: j.filter,
		MaxUploadBytes: j.maxBytes, MaxUploadRecords: j.maxRecords, MaxUploadIntervalSeconds: j.maxInterval,
		MergeSubrequests: j.mergeSubs, TransformerID: j.transformerID,
		LastComplete: timeOrNull(j.lastComplete), LastError: timeOrNull(j.lastError)}
	if j.outputOptions != nil {
		v.OutputOptions = j.outputOptions
	}
	if j.errorMessage != "" {
		msg := j.errorMessage
		v.ErrorMessage = &msg
	}
	return v
}

// jobInput is a create or update body. Pointers tell given from absent;
// name may be given as null.
type jobInput struct {
	Dataset            *string         `json:"dataset"`
	DestinationConf    *string         `json:"destination_conf"`
	Enabled            *bool           `json:"enabled"`
	Name               json.RawMessage `json:"name"`
	Kind               *string         `json:"kind"`
	Frequency          *string         `json:"frequency"`
	LogpullOptions     *string         `json:"logpull_options"`
	OutputOptions      json.RawMessage `json:"output_options"`
	Filter             *string         `json:"filter"`
	MaxUploadBytes     *int            `json:"max_upload_bytes"`
	MaxUploadRecords   *int            `json:"max_upload_records"`
	MaxUploadInterval  *int            `json:"max_upload_interval_seconds"`
	OwnershipChallenge *string         `json:"ownership_challenge"`
	MergeSubrequests   *bool           `json:"merge_subrequests"`
	TransformerID      json.RawMessage `json:"transformer_id"`
}

var (
	datasetRe = regexp.MustCompile(`^[a-zA-Z0-9_\-]*$`)
	jobNameRe = regexp.MustCompile(`^[a-zA-Z0-9\-\.]*$`)
)

// output_options keys (§2.4); "CVE-2021-4428" is OA24's misspelling,
// accepted and stored under the real key.
var outputKeys = []string{"field_names", "output_type", "timestamp_format", "record_prefix", "record_suffix",
	"record_delimiter", "field_delimiter", "batch_prefix", "batch_suffix", "record_template", "sample_rate", "CVE-2021-44228"}

// apply merges a body into j (a copy of the stored job, or a new one).
func (in *jobInput) apply(j *job, create bool) *apiError {
	if in.Dataset != nil {
		if !create && *in.Dataset != j.dataset {
			return badRequest("dataset cannot be changed; create a new job instead")
		}
		j.dataset = *in.Dataset
	}
	if in.Kind != nil {
		if !create && *in.Kind != j.kind {
			return badRequest("kind cannot be changed after the job is created")
		}
		j.kind = *in.Kind
	}
	if in.DestinationConf != nil {
		j.destinationConf = *in.DestinationConf
	}
	if in.Enabled != nil {
		j.enabled = *in.Enabled
	}
	if in.Name != nil {
		var name *string
		if err := json.Unmarshal(in.Name, &name); err != nil {
			return badRequest("name must be a string or null")
		}
		j.name = name
	}
	if in.Frequency != nil {
		j.frequency = in.Frequency
	}
	if in.LogpullOptions != nil {
		j.logpullOptions = in.LogpullOptions
	}
	if in.OutputOptions != nil {
		oo, err := parseOutputOptions(in.OutputOptions)
		if err != nil {
			return err
		}
		j.outputOptions = oo // replaced in full (§2.4)
	}
	if in.Filter != nil {
		j.filter = in.Filter
		if *in.Filter == "" {
			j.filter = nil
		}
	}
	if in.MaxUploadBytes != nil {
		j.maxBytes = in.MaxUploadBytes
	}
	if in.MaxUploadRecords != nil {
		j.maxRecords = in.MaxUploadRecords
	}
	if in.MaxUploadInterval != nil {
		j.maxInterval = in.MaxUploadInterval
	}
	if in.MergeSubrequests != nil {
		j.mergeSubs = in.MergeSubrequests
	}
	if in.TransformerID != nil {
		j.transformerID = in.TransformerID
		if string(in.TransformerID) == "null" {
			j.transformerID = nil
		}
	}
	return nil
}

func parseOutputOptions(raw json.RawMessage) (map[string]json.RawMessage, *apiError) {
	if string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badRequest("output_options must be an object")
	}
	if v, ok := m["CVE-2021-4428"]; ok {
		delete(m, "CVE-2021-4428")
		if _, dup := m["CVE-2021-44228"]; !dup {
			m["CVE-2021-44228"] = v
		}
	}
	for k := range m {
		if !slices.Contains(outputKeys, k) {
			return nil, badRequest("output_options: unknown key " + strconv.Quote(k))
		}
	}
	return m, nil
}

// simOutput converts the stored options (or legacy logpull_options) into
// the simulator's OutputOptions.
func (j *job) simOutput() (sim.OutputOptions, error) {
	var o sim.OutputOptions
	if j.outputOptions != nil {
		b, _ := json.Marshal(j.outputOptions)
		if err := json.Unmarshal(b, &o); err != nil {
			return o, fmt.Errorf("output_options: %v", err)
		}
		return o, nil
	}
	if j.logpullOptions != nil {
		return parseLogpullOptions(*j.logpullOptions)
	}
	return o, nil
}

// parseLogpullOptions reads the deprecated logpull_options query string.
func parseLogpullOptions(s string) (sim.OutputOptions, error) {
	var o sim.OutputOptions
	q, err := url.ParseQuery(s)
	if err != nil {
		return o, fmt.Errorf("logpull_options: %v", err)
	}
	for k, vs := range q {
		v := vs[0]
		switch k {
		case "fields":
			if v != "" {
				o.FieldNames = strings.Split(v, ",")
			}
		case "timestamps":
			o.TimestampFormat = v
		case "sample":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return o, fmt.Errorf("logpull_options: sample %q is not a number", v)
			}
			o.SampleRate = f
		case "CVE-2021-44228":
			o.CVE202144228 = v == "true"
		default:
			return o, fmt.Errorf("logpull_options: unknown option %q", k)
		}
	}
	return o, nil
}

// checkOutput validates output options against a dataset.
func checkOutput(o sim.OutputOptions, ds *dataset) error {
	if ds.simulated {
		if o.RecordTemplate != "" {
			return fmt.Errorf("output_options: record_template is not supported by the simulator")
		}
		_, err := sim.NewFormat(ds.name, o)
		return err
	}
	for _, f := range o.FieldNames {
		if _, ok := ds.field(f); !ok {
			return fmt.Errorf("field_names: %q is not a field of dataset %s", f, ds.name)
		}
	}
	switch o.OutputType {
	case "", "ndjson", "csv":
	default:
		return fmt.Errorf("output_type %q: must be ndjson or csv", o.OutputType)
	}
	switch o.TimestampFormat {
	case "", "unixnano", "unix", "rfc3339", "rfc3339ms", "rfc3339ns":
	default:
		return fmt.Errorf("timestamp_format %q: must be one of unixnano, unix, rfc3339, rfc3339ms, rfc3339ns", o.TimestampFormat)
	}
	if o.SampleRate < 0 || o.SampleRate > 1 {
		return fmt.Errorf("sample_rate %v: must be in (0, 1]", o.SampleRate)
	}
	return nil
}

// destination is a parsed destination_conf.
type destination struct {
	scheme string
	http   *sim.Destination
	obj    *ObjectDestination
}

func (s *Server) parseDestination(conf string) (*destination, error) {
	if conf == "" {
		return nil, fmt.Errorf("destination_conf is required")
	}
	if len(conf) > 4096 {
		return nil, fmt.Errorf("destination_conf is longer than 4096 characters")
	}
	scheme, _, ok := strings.Cut(conf, "://")
	if !ok {
		return nil, fmt.Errorf("destination_conf %q is not a URI", conf)
	}
	d := &destination{scheme: scheme}
	switch scheme {
	case "https", "http":
		if scheme == "http" && s.cfg.DenyHTTP {
			return nil, fmt.Errorf("destination_conf: the scheme must be https")
		}
		hd, err := sim.ParseDestination(conf)
		if err != nil {
			return nil, err
		}
		d.http = hd
	case "s3", "r2", "gs", "azure", "sumo":
		od, err := ParseObjectDestination(conf)
		if err != nil {
			return nil, err
		}
		if scheme == "azure" && (od.Query.Get("ss") != "" && od.Query.Get("ss") != "b" || od.Query.Get("srt") != "" && od.Query.Get("srt") != "o") {
			return nil, fmt.Errorf("signedResourceTypes must be Object only (srt=o)")
		}
		d.obj = od
	case "splunk", "datadog":
		if _, err := url.Parse(conf); err != nil {
			return nil, fmt.Errorf("destination_conf: %v", err)
		}
	default:
		return nil, fmt.Errorf("destination_conf: unsupported scheme %q (want r2, gs, s3, sumo, https, azure, splunk or datadog)", scheme)
	}
	return d, nil
}

// validate checks a job's final state (§6.2, §6.3) and returns its parsed
// destination.
func (s *Server) validateJob(c *request, j *job) (*destination, *dataset, *apiError) {
	if j.dataset == "" {
		return nil, nil, badRequest("dataset is required")
	}
	if len(j.dataset) > 256 || !datasetRe.MatchString(j.dataset) {
		return nil, nil, badRequest("dataset must match ^[a-zA-Z0-9_\\-]*$")
	}
	ds, ok := s.catalog.lookup(c.scope.kind, j.dataset)
	if !ok {
		other := "account"
		if c.scope.kind == "account" {
			other = "zone"
		}
		if _, ok := s.catalog.lookup(other, j.dataset); ok {
			return nil, nil, badRequest(fmt.Sprintf("dataset %s is a %s dataset: use /%ss/{id}/logpush/jobs", j.dataset, other, other))
		}
		return nil, nil, badRequest("dataset " + strconv.Quote(j.dataset) + " is not a Logpush dataset")
	}
	dest, err := s.parseDestination(j.destinationConf)
	if err != nil {
		return nil, nil, badRequest(err.Error())
	}
	if j.name != nil && (len(*j.name) > 512 || !jobNameRe.MatchString(*j.name)) {
		return nil, nil, badRequest("name must match ^[a-zA-Z0-9\\-\\.]*$ (letters, digits, '-' and '.') and be at most 512 characters")
	}
	switch j.kind {
	case "":
	case "edge":
		if j.dataset != "http_requests" {
			return nil, nil, badRequest(`kind "edge" is only available for the http_requests dataset`)
		}
		if j.maxBytes != nil || j.maxRecords != nil {
			return nil, nil, badRequest(`max_upload_bytes and max_upload_records do not apply to kind "edge" jobs`)
		}
	default:
		return nil, nil, badRequest(`kind must be "" or "edge"`)
	}
	if j.frequency != nil && *j.frequency != "high" && *j.frequency != "low" {
		return nil, nil, badRequest(`frequency must be "high" or "low"`)
	}
	if j.logpullOptions != nil && len(*j.logpullOptions) > 4096 {
		return nil, nil, badRequest("logpull_options is longer than 4096 characters")
	}
	limits := []struct {
		name   string
		v      *int
		lo, hi int
	}{
		{"max_upload_bytes", j.maxBytes, 5_000_000, 1_000_000_000},
		{"max_upload_records", j.maxRecords, 1000, 1_000_000},
		{"max_upload_interval_seconds", j.maxInterval, 30, 300},
	}
	for _, l := range limits {
		if l.v == nil || *l.v == 0 {
			continue
		}
		if *l.v < 0 || !s.cfg.RelaxedLimits && (*l.v < l.lo || *l.v > l.hi) {
			return nil, nil, badRequest(fmt.Sprintf("%s must be 0 or from %d to %d", l.name, l.lo, l.hi))
		}
	}
	if j.mergeSubs != nil && *j.mergeSubs && (j.dataset != "http_requests" || c.scope.kind != "zone") {
		return nil, nil, badRequest("merge_subrequests is only available for the zone http_requests dataset")
	}
	out, err := j.simOutput()
	if err != nil {
		return nil, nil, badRequest(err.Error())
	}
	if err := checkOutput(out, ds); err != nil {
		return nil, nil, badRequest(err.Error())
	}
	if j.filter != nil {
		if _, err := compileFilter(*j.filter, ds); err != nil {
			return nil, nil, badRequest(err.Error())
		}
	}
	if zeroTrust[j.dataset] && !c.id.has(PermZeroTrustPIIRead) {
		fields := out.FieldNames
		if len(fields) == 0 {
			for _, f := range ds.fields {
				fields = append(fields, f.Name)
			}
		}
		for _, f := range fields {
			if piiField(f) {
				return nil, nil, authError(fmt.Sprintf("field %s of %s is personal data: the API token needs the %s permission", f, j.dataset, PermZeroTrustPIIRead))
			}
		}
	}
	return dest, ds, nil
}

// checkDestination runs the checks Cloudflare makes when a job gets a new
// destination: the ownership challenge for object stores that need one,
// then the validation upload (an HTTP POST, or test.txt.gz in the bucket
// when the simulator has Storage).
func (s *Server) checkDestination(c *request, dest *destination, challenge string) *apiError {
	if dest.obj != nil && dest.obj.NeedsOwnership() {
		if err := s.checkOwnership(c.scope, dest.obj, challenge, c.now); err != nil {
			return errorf(http.StatusBadRequest, CodeDestination, err.Error())
		}
	}
	if err := s.validateUpload(c, dest); err != nil {
		return errorf(http.StatusBadRequest, CodeDestination, err.Error())
	}
	return nil
}

// validateUpload makes the validation upload of a destination the
// simulator can reach; the error is the API's message.
func (s *Server) validateUpload(c *request, dest *destination) error {
	var err error
	switch {
	case dest.http != nil:
		err = s.probe(c.r.Context(), dest.http)
	case s.objectPushable(dest):
		err = s.writeValidationObject(c.r.Context(), dest.obj, c.now)
	}
	if err != nil {
		return errors.New("error validating destination: error writing object: error uploading: " + err.Error())
	}
	return nil
}

func (s *Server) findJob(c *request) (*job, *apiError) {
	id, _ := strconv.Atoi(c.params["job"])
	j := s.jobs[id]
	if j == nil || j.scope.kind != c.scope.kind || j.scope.id != c.scope.id {
		return nil, errorf(http.StatusNotFound, CodeNotFound, "job not found")
	}
	return j, nil
}

func (s *Server) scopeJobs(sc scope, dataset string) []*job {
	var out []*job
	for _, j := range s.jobs {
		if j.scope.kind == sc.kind && j.scope.id == sc.id && (dataset == "" || j.dataset == dataset) {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(a, b *job) int { return a.id - b.id })
	return out
}

func (s *Server) viewsLocked(jobs []*job) []*jobView {
	views := make([]*jobView, 0, len(jobs))
	for _, j := range jobs {
		views = append(views, j.viewLocked())
	}
	return views
}

// handleJobList: GET /{scope}/logpush/jobs.
func (s *Server) handleJobList(c *request) *apiError {
	s.mu.Lock()
	views := s.viewsLocked(s.scopeJobs(c.scope, ""))
	s.mu.Unlock()
	return c.ok(views, nil)
}

// handleDatasetJobs: GET /{scope}/logpush/datasets/{dataset}/jobs.
func (s *Server) handleDatasetJobs(c *request) *apiError {
	if _, ok := s.catalog.lookup(c.scope.kind, c.params["dataset"]); !ok {
		return badRequest("dataset " + strconv.Quote(c.params["dataset"]) + " is not a " + c.scope.kind + " Logpush dataset")
	}
	s.mu.Lock()
	views := s.viewsLocked(s.scopeJobs(c.scope, c.params["dataset"]))
	s.mu.Unlock()
	return c.ok(views, nil)
}

// handleDatasetFields: GET /{scope}/logpush/datasets/{dataset}/fields.
func (s *Server) handleDatasetFields(c *request) *apiError {
	ds, ok := s.catalog.lookup(c.scope.kind, c.params["dataset"])
	if !ok {
		return badRequest("dataset " + strconv.Quote(c.params["dataset"]) + " is not a " + c.scope.kind + " Logpush dataset")
	}
	return c.ok(ds.describe(), nil)
}

// handleJobGet: GET /{scope}/logpush/jobs/{id}.
func (s *Server) handleJobGet(c *request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.findJob(c)
	if err != nil {
		return err
	}
	return c.ok(j.viewLocked(), nil)
}

func (s *Server) scopeZoneName(sc scope) string {
	if sc.zone != nil {
		return sc.zone.Name
	}
	return ""
}

// jobAudit is the job as its audit log entry shows it.
func jobAudit(j *job) map[string]any {
	m := map[string]any{"dataset": j.dataset, "destination_conf": redactConf(j.destinationConf), "enabled": j.enabled}
	if j.name != nil {
		m["name"] = *j.name
	}
	return m
}

// redactConf hides header_* values and credentials in a destination_conf.
func redactConf(conf string) string {
	base, query, ok := strings.Cut(conf, "?")
	if !ok {
		return conf
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if strings.HasPrefix(k, "header_") || k == "secret-access-key" || k == "sig" || k == "Api-Key" {
			parts[i] = k + "=REDACTED"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// handleJobCreate: POST /{scope}/logpush/jobs.
func (s *Server) handleJobCreate(c *request) *apiError {
	var in jobInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.Dataset == nil {
		return badRequest("dataset is required")
	}
	if in.DestinationConf == nil {
		return badRequest("destination_conf is required")
	}
	j := &job{scope: c.scope}
	if err := in.apply(j, true); err != nil {
		return err
	}
	dest, _, err := s.validateJob(c, j)
	if err != nil {
		return err
	}
	s.mu.Lock()
	n := len(s.scopeJobs(c.scope, ""))
	s.mu.Unlock()
	if n >= s.cfg.MaxJobs {
		return errorf(http.StatusForbidden, CodeMaxJobs, "creating a new job (for "+j.dataset+" dataset) is not allowed: exceeded max jobs allowed")
	}
	challenge := ""
	if in.OwnershipChallenge != nil {
		challenge = *in.OwnershipChallenge
	}
	if err := s.checkDestination(c, dest, challenge); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errorf(http.StatusServiceUnavailable, CodeBadRequest, errClosed.Error())
	}
	if len(s.scopeJobs(c.scope, "")) >= s.cfg.MaxJobs { // a concurrent create won
		s.mu.Unlock()
		return errorf(http.StatusForbidden, CodeMaxJobs, "creating a new job (for "+j.dataset+" dataset) is not allowed: exceeded max jobs allowed")
	}
	j.id = s.nextJobID
	s.nextJobID++
	s.jobs[j.id] = j
	s.startLocked(j, dest)
	view := j.viewLocked()
	audit := jobAudit(j)
	s.mu.Unlock()
	s.auditAPI(c, "create", "logpush_job", strconv.Itoa(j.id), s.scopeZoneName(c.scope),
		map[string]string{"dataset": j.dataset, "zone_name": s.scopeZoneName(c.scope)}, nil, audit, "logpush")
	return c.ok(view, nil)
}

// handleJobUpdate: PUT /{scope}/logpush/jobs/{id}. Fields in the body
// replace the stored ones; output_options is replaced in full.
func (s *Server) handleJobUpdate(c *request) *apiError {
	var in jobInput
	if err := c.decode(&in); err != nil {
		return err
	}
	s.mu.Lock()
	cur, err := s.findJob(c)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	next := *cur
	next.run = nil
	prevConf := cur.destinationConf
	s.mu.Unlock()
	if err := in.apply(&next, false); err != nil {
		return err
	}
	dest, _, err := s.validateJob(c, &next)
	if err != nil {
		return err
	}
	if next.destinationConf != prevConf {
		challenge := ""
		if in.OwnershipChallenge != nil {
			challenge = *in.OwnershipChallenge
		}
		if err := s.checkDestination(c, dest, challenge); err != nil {
			return err
		}
	}
	s.mu.Lock()
	live := s.jobs[next.id]
	if live != cur {
		s.mu.Unlock()
		return errorf(http.StatusNotFound, CodeNotFound, "job not found")
	}
	old := jobAudit(cur)
	stopped := cur.stopLocked()
	// keep the state the run reached
	next.lastComplete, next.lastError, next.errorMessage = cur.lastComplete, cur.lastError, cur.errorMessage
	if in.Enabled == nil && !cur.enabled {
		next.enabled = false // the run may have disabled it meanwhile
	}
	*cur = next
	s.startLocked(cur, dest)
	view := cur.viewLocked()
	audit := jobAudit(cur)
	s.mu.Unlock()
	stopped.wait()
	s.auditAPI(c, "update", "logpush_job", strconv.Itoa(cur.id), s.scopeZoneName(c.scope),
		map[string]string{"dataset": cur.dataset, "zone_name": s.scopeZoneName(c.scope)}, old, audit, "logpush")
	return c.ok(view, nil)
}

// handleJobDelete: DELETE /{scope}/logpush/jobs/{id}.
func (s *Server) handleJobDelete(c *request) *apiError {
	s.mu.Lock()
	j, err := s.findJob(c)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	stopped := j.stopLocked()
	delete(s.jobs, j.id)
	old := jobAudit(j)
	s.mu.Unlock()
	stopped.wait()
	s.auditAPI(c, "delete", "logpush_job", strconv.Itoa(j.id), s.scopeZoneName(c.scope),
		map[string]string{"dataset": j.dataset, "zone_name": s.scopeZoneName(c.scope)}, old, nil, "logpush")
	return c.ok(map[string]int{"id": j.id}, nil)
}

type destinationBody struct {
	DestinationConf    string `json:"destination_conf"`
	OwnershipChallenge string `json:"ownership_challenge"`
}

// handleOwnership: POST /{scope}/logpush/ownership.
func (s *Server) handleOwnership(c *request) *apiError {
	var body destinationBody
	if err := c.decode(&body); err != nil {
		return err
	}
	dest, err := s.parseDestination(body.DestinationConf)
	if err != nil {
		return badRequest(err.Error())
	}
	if dest.obj == nil {
		return errorf(http.StatusBadRequest, CodeDestination, "destination "+dest.scheme+":// does not use an ownership challenge")
	}
	if s.cfg.Storage == nil || dest.scheme == "sumo" {
		return errorf(http.StatusBadRequest, CodeDestination, "error writing ownership challenge: the simulator has no storage for "+dest.scheme+":// destinations")
	}
	token := s.ownershipToken(c.scope, dest.obj, c.now)
	sum := fmt.Sprintf("%x", fnvHash(token))[:8]
	key := "ownership-challenge-" + sum + ".txt"
	if p := dest.obj.Prefix(c.now); p != "" {
		key = p + "/" + key
	}
	bucket, err := s.cfg.Storage.Bucket(c.r.Context(), dest.obj)
	if err == nil {
		err = bucket.Put(c.r.Context(), key, []byte(token), objstore.PutOptions{ContentType: "text/plain"})
	}
	if err != nil {
		return errorf(http.StatusBadRequest, CodeDestination, "error writing ownership challenge: "+sim.RedactObjectError(dest.obj.Conf, err))
	}
	return c.ok(map[string]any{"filename": key, "message": "", "valid": true}, nil)
}

// handleOwnershipValidate: POST /{scope}/logpush/ownership/validate.
func (s *Server) handleOwnershipValidate(c *request) *apiError {
	var body destinationBody
	if err := c.decode(&body); err != nil {
		return err
	}
	dest, err := s.parseDestination(body.DestinationConf)
	if err != nil {
		return badRequest(err.Error())
	}
	valid := dest.obj != nil && s.checkOwnership(c.scope, dest.obj, body.OwnershipChallenge, c.now) == nil
	return c.ok(map[string]bool{"valid": valid}, nil)
}

// handleValidateDestination: POST /{scope}/logpush/validate/destination,
// the create-time check without a job.
func (s *Server) handleValidateDestination(c *request) *apiError {
	var body destinationBody
	if err := c.decode(&body); err != nil {
		return err
	}
	dest, err := s.parseDestination(body.DestinationConf)
	if err != nil {
		return c.ok(map[string]any{"valid": false, "message": err.Error()}, nil)
	}
	if err := s.validateUpload(c, dest); err != nil {
		return c.ok(map[string]any{"valid": false, "message": err.Error()}, nil)
	}
	return c.ok(map[string]any{"valid": true, "message": ""}, nil)
}

// handleValidateDestinationExists: POST
// /{scope}/logpush/validate/destination/exists.
func (s *Server) handleValidateDestinationExists(c *request) *apiError {
	var body destinationBody
	if err := c.decode(&body); err != nil {
		return err
	}
	s.mu.Lock()
	exists := false
	for _, j := range s.scopeJobs(c.scope, "") {
		exists = exists || j.destinationConf == body.DestinationConf
	}
	s.mu.Unlock()
	return c.ok(map[string]bool{"exists": exists}, nil)
}

// handleValidateOrigin: POST /{scope}/logpush/validate/origin.
func (s *Server) handleValidateOrigin(c *request) *apiError {
	var body struct {
		LogpullOptions string `json:"logpull_options"`
		Dataset        string `json:"dataset"`
	}
	if err := c.decode(&body); err != nil {
		return err
	}
	ds, ok := s.catalog.lookup(c.scope.kind, body.Dataset)
	if !ok {
		return c.ok(map[string]any{"valid": false, "message": "dataset " + strconv.Quote(body.Dataset) + " is not a " + c.scope.kind + " Logpush dataset"}, nil)
	}
	o, err := parseLogpullOptions(body.LogpullOptions)
	if err == nil {
		err = checkOutput(o, ds)
	}
	if err != nil {
		return c.ok(map[string]any{"valid": false, "message": err.Error()}, nil)
	}
	return c.ok(map[string]any{"valid": true, "message": ""}, nil)
}
