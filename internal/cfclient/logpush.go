package cfclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// Job is a Logpush job as the API returns it (PROTOCOL.md §6.2). Raw keeps
// every key as received, so that output and read-modify-write updates do
// not lose fields this type does not name.
type Job struct {
	ID                       int                        `json:"id"`
	Dataset                  string                     `json:"dataset"`
	Enabled                  bool                       `json:"enabled"`
	Name                     string                     `json:"name"`
	Kind                     string                     `json:"kind"`
	DestinationConf          string                     `json:"destination_conf"`
	OutputOptions            map[string]json.RawMessage `json:"output_options"`
	LogpullOptions           string                     `json:"logpull_options"`
	Filter                   string                     `json:"filter"`
	MaxUploadBytes           *int64                     `json:"max_upload_bytes"`
	MaxUploadRecords         *int64                     `json:"max_upload_records"`
	MaxUploadIntervalSeconds *int64                     `json:"max_upload_interval_seconds"`
	LastComplete             *string                    `json:"last_complete"`
	LastError                *string                    `json:"last_error"`
	ErrorMessage             *string                    `json:"error_message"`

	Raw map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON fills the named fields and Raw.
func (j *Job) UnmarshalJSON(b []byte) error {
	type plain Job
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &p.Raw); err != nil {
		return err
	}
	*j = Job(p)
	return nil
}

// FieldNames returns output_options.field_names (nil when absent).
func (j *Job) FieldNames() []string {
	var names []string
	if raw, ok := j.OutputOptions["field_names"]; ok {
		_ = json.Unmarshal(raw, &names)
	}
	return names
}

// OutputString returns a string-valued output option ("" when absent).
func (j *Job) OutputString(key string) string {
	var s string
	if raw, ok := j.OutputOptions[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// Masked returns the job object as received, with its secrets masked
// (MaskJSON): what --json prints.
func (j *Job) Masked() map[string]any {
	m := map[string]any{}
	for k, v := range j.Raw {
		var x any
		if json.Unmarshal(v, &x) == nil {
			m[k] = x
		}
	}
	if len(m) == 0 { // a Job built in code, not decoded
		b, _ := json.Marshal(j)
		_ = json.Unmarshal(b, &m)
	}
	delete(m, "ownership_challenge") // write-only; never returned, never printed
	return MaskJSON(m).(map[string]any)
}

func jobsPath(s Scope) string { return s.Path() + "/logpush/jobs" }

func jobPath(s Scope, id int) string { return jobsPath(s) + "/" + strconv.Itoa(id) }

// ListJobs lists the scope's jobs (GET /{scope}/logpush/jobs), or one
// dataset's (GET /{scope}/logpush/datasets/{dataset}/jobs) when dataset is
// not empty.
func (c *Client) ListJobs(ctx context.Context, s Scope, dataset string) ([]Job, error) {
	path := jobsPath(s)
	if dataset != "" {
		path = s.Path() + "/logpush/datasets/" + url.PathEscape(dataset) + "/jobs"
	}
	var jobs []Job
	err := c.Do(ctx, http.MethodGet, path, nil, &jobs)
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].ID < jobs[b].ID })
	return jobs, err
}

// GetJob reads one job.
func (c *Client) GetJob(ctx context.Context, s Scope, id int) (*Job, error) {
	var j Job
	if err := c.Do(ctx, http.MethodGet, jobPath(s, id), nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// CreateJob creates a job from body (the job's keys: dataset,
// destination_conf, enabled, output_options, ownership_challenge...).
// Cloudflare checks the destination before answering: a test upload for
// HTTP, the ownership challenge for object stores that need one.
func (c *Client) CreateJob(ctx context.Context, s Scope, body map[string]any) (*Job, error) {
	var j Job
	if err := c.Do(ctx, http.MethodPost, jobsPath(s), body, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// UpdateJob sends PUT /{scope}/logpush/jobs/{id} with body. The keys given
// replace the job's; output_options, when given, replaces the job's
// options in full (PROTOCOL.md §2.4): callers merge first.
func (c *Client) UpdateJob(ctx context.Context, s Scope, id int, body map[string]any) (*Job, error) {
	var j Job
	if err := c.Do(ctx, http.MethodPut, jobPath(s, id), body, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// DeleteJob deletes a job.
func (c *Client) DeleteJob(ctx context.Context, s Scope, id int) error {
	return c.Do(ctx, http.MethodDelete, jobPath(s, id), nil, nil)
}

// DatasetFields returns a dataset's fields and their descriptions (GET
// /{scope}/logpush/datasets/{dataset}/fields): Cloudflare's live list.
func (c *Client) DatasetFields(ctx context.Context, s Scope, dataset string) (map[string]string, error) {
	var fields map[string]string
	err := c.Do(ctx, http.MethodGet, s.Path()+"/logpush/datasets/"+url.PathEscape(dataset)+"/fields", nil, &fields)
	return fields, err
}

// Ownership is the answer to POST /{scope}/logpush/ownership: Filename is
// where Cloudflare wrote the challenge in the destination (relative to the
// bucket or container).
type Ownership struct {
	Filename string `json:"filename"`
	Message  string `json:"message"`
	Valid    bool   `json:"valid"`
}

// RequestOwnership asks Cloudflare to write an ownership challenge file
// into the destination.
func (c *Client) RequestOwnership(ctx context.Context, s Scope, destinationConf string) (*Ownership, error) {
	var o Ownership
	err := c.Do(ctx, http.MethodPost, s.Path()+"/logpush/ownership", map[string]string{"destination_conf": destinationConf}, &o)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// ValidateOwnership checks a challenge token against a destination
// (POST /{scope}/logpush/ownership/validate).
func (c *Client) ValidateOwnership(ctx context.Context, s Scope, destinationConf, challenge string) (bool, error) {
	var r struct {
		Valid bool `json:"valid"`
	}
	err := c.Do(ctx, http.MethodPost, s.Path()+"/logpush/ownership/validate",
		map[string]string{"destination_conf": destinationConf, "ownership_challenge": challenge}, &r)
	return r.Valid, err
}

// ValidateDestination runs the check job creation makes (for HTTP: the
// test upload) without creating a job.
func (c *Client) ValidateDestination(ctx context.Context, s Scope, destinationConf string) (valid bool, message string, err error) {
	var r struct {
		Valid   bool   `json:"valid"`
		Message string `json:"message"`
	}
	err = c.Do(ctx, http.MethodPost, s.Path()+"/logpush/validate/destination", map[string]string{"destination_conf": destinationConf}, &r)
	return r.Valid, c.scrub(r.Message), err
}

// DestinationExists reports whether a job of the scope already uses the
// destination.
func (c *Client) DestinationExists(ctx context.Context, s Scope, destinationConf string) (bool, error) {
	var r struct {
		Exists bool `json:"exists"`
	}
	err := c.Do(ctx, http.MethodPost, s.Path()+"/logpush/validate/destination/exists", map[string]string{"destination_conf": destinationConf}, &r)
	return r.Exists, err
}
