package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/cfclient"
	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/normalize"
	"github.com/flarehose/flarehose/internal/objstore"
)

// `flarehose logpush`: manage Cloudflare Logpush jobs that deliver to
// flarehose (PROTOCOL.md §6) through internal/cfclient.
//
// Decisions (see `logpush jobs create --help` and `update --help`):
//   - create enables the job by default (the API's default is disabled):
//     a disabled job sends only Cloudflare's test upload, which looks like a
//     broken setup; --enabled=false stages one.
//   - timestamp_format defaults to rfc3339ns: the normalizer reads every
//     format, and this one is unambiguous (no guessing seconds from
//     nanoseconds by magnitude), loses nothing (nanoseconds, as the API's
//     unixnano default) and stays readable in event.original and the dead
//     letters.
//   - update is read-modify-write: it sends only the keys given, and when
//     an output option changes it sends the job's current output_options
//     with the change merged, because Cloudflare replaces output_options in
//     full (an omitted timestamp_format would fall back to unixnano).
//   - secrets (header_* values, keys in destination_conf, ownership
//     tokens, the API token and key) never reach the output: destination
//     and JSON are masked structurally, and everything printed (errors
//     included) goes through a Redactor that knows the secret values.

const (
	envAPIToken = "CLOUDFLARE_API_TOKEN"
	envEmail    = "CLOUDFLARE_EMAIL"
	envAPIKey   = "CLOUDFLARE_API_KEY"
	envSecret   = "FLAREHOSE_SECRET"
)

var (
	cfIDRe    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	jobNameRe = regexp.MustCompile(`^[a-zA-Z0-9\-\.]*$`)
	// timestampFormats are output_options.timestamp_format's values (§2.4).
	timestampFormats = []string{"unixnano", "unix", "rfc3339", "rfc3339ms", "rfc3339ns"}
)

// unknownDataset stands for the job's dataset in a dry-run update, where
// the job is not read.
const unknownDataset = "DATASET"

// lpSleep is the client's wait between retries (nil: a timer); tests
// replace it to advance a fake clock instead.
var lpSleep func(ctx context.Context, d time.Duration) error

// lpGlobal are the flags every logpush subcommand shares.
type lpGlobal struct {
	zone, account     string
	token, email, key string
	baseURL           string
	jsonOut, dryRun   bool
	maxWait           time.Duration
}

// lpRun is one logpush command's context: the client, the scope, the
// buffered output (scrubbed before it is written) and the redactor.
type lpRun struct {
	ctx    context.Context
	c      *cfclient.Client
	scope  cfclient.Scope
	json   bool
	dryRun bool
	red    *cfclient.Redactor
	out    *bytes.Buffer // stdout, scrubbed on flush
	errw   *bytes.Buffer // stderr, scrubbed on flush
	in     io.Reader     // stdin (--ownership-challenge-file -)
	// obj is the object storage destination of the job being created or
	// changed, for hints about Cloudflare's access to the bucket.
	obj *cfclient.ObjectDestination
}

func newLogpushCmd(s streams) *cobra.Command {
	g := &lpGlobal{}
	cmd := &cobra.Command{
		Use:   "logpush",
		Short: "Manage Cloudflare Logpush jobs that deliver to flarehose",
		Long: `Create and manage the Cloudflare Logpush jobs that send logs to flarehose, through the
Cloudflare API (a token with the Logs Write permission; every Logpush call needs it).

  datasets        the Logpush datasets at a scope, and which ones flarehose normalizes
  fields DATASET  a dataset's fields, as the API lists them
  jobs            list, get, create, update, delete, enable and disable jobs

Every command needs exactly one of --zone ID or --account ID (zone datasets such as
http_requests and firewall_events are managed per zone, account datasets such as
audit_logs and gateway_dns per account; 'datasets' shows which is which), and
credentials: --api-token or CLOUDFLARE_API_TOKEN, or the legacy --api-email and
--api-key (CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY).

Secrets (the shared secret in destination_conf, keys, ownership tokens, API credentials)
are masked in every output, --json and --dry-run included. --dry-run prints the API
calls (method, URL, body) without making any.`,
		Example: `  export CLOUDFLARE_API_TOKEN=... FLAREHOSE_SECRET=...
  flarehose logpush datasets --zone 023e105f4ecef8ad9ca31a8372d0c353
  flarehose logpush jobs create --zone 023e105f4ecef8ad9ca31a8372d0c353 \
      --dataset http_requests --url https://logs.example.com:9560
  flarehose logpush jobs list --zone 023e105f4ecef8ad9ca31a8372d0c353`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&g.zone, "zone", "", "zone ID (32 hex digits) for zone datasets")
	pf.StringVar(&g.account, "account", "", "account ID (32 hex digits) for account datasets")
	pf.StringVar(&g.token, "api-token", "", "API token with Logs Write (default $"+envAPIToken+")")
	pf.StringVar(&g.email, "api-email", "", "account e-mail for a Global API Key (default $"+envEmail+")")
	pf.StringVar(&g.key, "api-key", "", "Global API Key (default $"+envAPIKey+")")
	pf.StringVar(&g.baseURL, "base-url", cfclient.DefaultBaseURL, "Cloudflare API base URL")
	pf.BoolVar(&g.jsonOut, "json", false, "print JSON (the API's objects, secrets masked) instead of tables")
	pf.BoolVar(&g.dryRun, "dry-run", false, "print the API calls (method, URL, body; secrets masked) without making them")
	pf.DurationVar(&g.maxWait, "max-wait", time.Minute, "longest Retry-After to honour when Cloudflare rate-limits (then fail)")

	jobs := &cobra.Command{
		Use:   "jobs",
		Short: "List, show, create, update, delete, enable and disable Logpush jobs",
		Long: `Logpush jobs of a zone (--zone) or an account (--account).

  list            the jobs: id, name, dataset, enabled, destination, last_complete, last_error
  get ID          one job in full
  create          a job delivering a dataset to flarehose (or to object storage)
  update ID       change a job (read-modify-write: what you do not change is kept)
  enable ID       start a job
  disable ID      stop a job (it keeps its settings)
  delete ID       delete a job`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	jobs.AddCommand(newLPListCmd(s, g), newLPGetCmd(s, g), newLPCreateCmd(s, g), newLPUpdateCmd(s, g),
		newLPToggleCmd(s, g, true), newLPToggleCmd(s, g, false), newLPDeleteCmd(s, g))
	cmd.AddCommand(newLPDatasetsCmd(s, g), newLPFieldsCmd(s, g), jobs)
	return cmd
}

// run prepares an lpRun (needScope: exactly one of --zone/--account;
// needAuth: credentials), calls fn, and writes its output scrubbed of
// every secret. Errors are scrubbed too, keeping their exit status.
func (g *lpGlobal) run(cmd *cobra.Command, s streams, needScope, needAuth bool, fn func(r *lpRun) error) error {
	r := &lpRun{ctx: cmd.Context(), json: g.jsonOut, dryRun: g.dryRun, out: &bytes.Buffer{}, errw: &bytes.Buffer{}, in: s.in}
	if r.ctx == nil {
		r.ctx = context.Background()
	}
	r.red = cfclient.NewRedactor()
	err := g.setup(r, needScope, needAuth)
	if err == nil {
		err = fn(r)
	}
	s.err.Write([]byte(r.red.Scrub(r.errw.String())))
	s.out.Write([]byte(r.red.Scrub(r.out.String())))
	return scrubError(err, r.red)
}

func (g *lpGlobal) setup(r *lpRun, needScope, needAuth bool) error {
	switch {
	case g.zone != "" && g.account != "":
		return usagef("give either --zone or --account, not both: zone datasets (http_requests, firewall_events, ...) take --zone, account datasets (audit_logs, gateway_dns, ...) --account")
	case g.zone != "":
		if !cfIDRe.MatchString(g.zone) {
			return usagef("--zone %q: want the zone ID, 32 lower-case hex digits (dashboard: the zone's Overview page, API section), not the domain name", g.zone)
		}
		r.scope = cfclient.Zone(g.zone)
	case g.account != "":
		if !cfIDRe.MatchString(g.account) {
			return usagef("--account %q: want the account ID, 32 lower-case hex digits (dashboard: Account Home, or a zone's Overview page)", g.account)
		}
		r.scope = cfclient.Account(g.account)
	case needScope:
		return usagef("give --zone ID (zone datasets: http_requests, firewall_events, ...) or --account ID (account datasets: audit_logs, gateway_dns, ...)")
	}
	auth, err := g.auth()
	r.red.Add(auth.Secrets()...)
	r.red.Add(os.Getenv(envSecret))
	if err != nil {
		return err
	}
	if needAuth && auth.Token == "" && auth.Key == "" {
		return usagef("no Cloudflare credentials: set %s (or --api-token) to an API token with Logs Write, or %s and %s (--api-email, --api-key) for a Global API Key", envAPIToken, envEmail, envAPIKey)
	}
	if g.maxWait < 0 {
		return usagef("--max-wait must not be negative")
	}
	if u, err := url.Parse(g.baseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usagef("--base-url %q: want an http(s) URL such as %s", g.baseURL, cfclient.DefaultBaseURL)
	}
	r.c = &cfclient.Client{BaseURL: g.baseURL, Auth: auth, MaxWait: g.maxWait, Redact: r.red, Sleep: lpSleep}
	if g.dryRun {
		r.c.DryRun = r.out
	}
	return nil
}

// auth picks the credentials: flags first, then the environment; a token
// wins over a key when both come from the environment.
func (g *lpGlobal) auth() (cfclient.Auth, error) {
	a := cfclient.Auth{Token: g.token, Email: g.email, Key: g.key}
	if a.Token != "" && (a.Email != "" || a.Key != "") {
		return a, usagef("give --api-token or --api-email with --api-key, not both")
	}
	if a.Token == "" && a.Email == "" && a.Key == "" {
		a.Token = os.Getenv(envAPIToken)
		if a.Token == "" {
			a.Email, a.Key = os.Getenv(envEmail), os.Getenv(envAPIKey)
		}
	}
	if a.Token == "" && (a.Email == "") != (a.Key == "") {
		return a, usagef("a Global API Key needs both --api-email and --api-key (%s, %s)", envEmail, envAPIKey)
	}
	return a, nil
}

// scrubError rewrites an error's message without secrets, keeping what
// Main reads from it (usage errors, exit statuses).
func scrubError(err error, red *cfclient.Redactor) error {
	if err == nil {
		return nil
	}
	var ee exitError
	if errors.As(err, &ee) {
		return err
	}
	msg := red.Scrub(err.Error())
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return usageError{errors.New(msg)}
	}
	return errors.New(msg)
}

// apiFail turns a failed call into the command's error: what was being
// done, Cloudflare's answer, and a hint.
func (r *lpRun) apiFail(doing string, err error) error {
	var ae *cfclient.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("%s: %v", doing, ae)
		if h := ae.HintFor(r.scope, r.obj); h != "" {
			msg += "\n  hint: " + h
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// dry reports whether err is the client's dry-run marker.
func dry(err error) bool { return errors.Is(err, cfclient.ErrDryRun) }

// resolveDataset accepts Cloudflare's name or Elastic's
// (cloudflare_logpush.http_request) and checks it against the catalog and
// the scope: a dataset known only at the other scope is a usage error.
func (r *lpRun) resolveDataset(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", usagef("--dataset is required (see 'flarehose logpush datasets')")
	}
	if len(cfclient.DatasetScopes(name)) == 0 {
		if canon, ok := normalize.Resolve(name); ok && len(cfclient.DatasetScopes(canon)) > 0 {
			name = canon
		}
	}
	scopes := cfclient.DatasetScopes(name)
	if len(scopes) == 0 {
		fmt.Fprintf(r.errw, "note: %s is not in flarehose's dataset catalog; Cloudflare decides whether it exists\n", name)
		return name, nil
	}
	for _, sc := range scopes {
		if sc == r.scope.Kind {
			return name, nil
		}
	}
	flag := "--zone"
	if scopes[0] == "account" {
		flag = "--account"
	}
	article := "a"
	if scopes[0] == "account" {
		article = "an"
	}
	return "", usagef("%s is %s %s dataset: give %s ID instead of --%s", name, article, scopes[0], flag, r.scope.Kind)
}

// ---------------------------------------------------------------- datasets

func newLPDatasetsCmd(s streams, g *lpGlobal) *cobra.Command {
	return &cobra.Command{
		Use:   "datasets",
		Short: "List the Logpush datasets at a scope, and which ones flarehose normalizes",
		Long: `List the Logpush datasets of flarehose's catalog (Cloudflare's field reference): the zone
datasets with --zone, the account datasets with --account, both without either. NORMALIZED
names the Elastic data stream flarehose maps the dataset to (every dataset flarehose knows
is normalized to ECS; "-" means records are stored with their fields as sent). No API call
is made: the datasets a zone or account may use also depend on its plan.`,
		Example: `  flarehose logpush datasets --zone 023e105f4ecef8ad9ca31a8372d0c353
  flarehose logpush datasets --account 01a7362d577a6c3019a474fd6f485823 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, s, false, false, func(r *lpRun) error {
				return r.printDatasets(cfclient.Datasets(r.scope.Kind))
			})
		},
	}
}

type datasetRow struct {
	Name            string   `json:"name"`
	Scope           string   `json:"scope"`
	Fields          int      `json:"fields"`
	TimestampFields []string `json:"timestamp_fields"`
	Normalized      bool     `json:"normalized"`
	Elastic         string   `json:"elastic_dataset,omitempty"`
	Presets         []string `json:"field_presets,omitempty"`
}

func datasetRows(list []cfclient.Dataset) []datasetRow {
	rows := make([]datasetRow, 0, len(list))
	for _, d := range list {
		row := datasetRow{Name: d.Name, Scope: d.Scope, Fields: d.Fields, TimestampFields: d.TimestampFields, Presets: cfclient.Presets(d.Name)}
		if row.TimestampFields == nil {
			row.TimestampFields = []string{}
		}
		if canon, ok := normalize.Resolve(d.Name); ok && canon == d.Name {
			row.Normalized, row.Elastic = true, normalize.ElasticDataset(d.Name)
		}
		rows = append(rows, row)
	}
	return rows
}

func (r *lpRun) printDatasets(list []cfclient.Dataset) error {
	rows := datasetRows(list)
	if r.json {
		return lpJSON(r.out, rows)
	}
	renderDatasets(r.out, rows)
	return nil
}

func renderDatasets(w io.Writer, rows []datasetRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tSCOPE\tFIELDS\tNORMALIZED\tPRESETS")
	for _, d := range rows {
		norm := "-"
		if d.Normalized {
			norm = d.Elastic
		}
		presets := "-"
		if len(d.Presets) > 0 {
			presets = strings.Join(d.Presets, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.Name, d.Scope, d.Fields, norm, presets)
	}
	tw.Flush()
}

// ---------------------------------------------------------------- fields

func newLPFieldsCmd(s streams, g *lpGlobal) *cobra.Command {
	return &cobra.Command{
		Use:   "fields DATASET",
		Short: "List a dataset's fields as the Cloudflare API has them",
		Long: `List the fields of a dataset from GET /{zones|accounts}/{id}/logpush/datasets/{dataset}/fields:
the live list, which may hold fields newer than flarehose's catalog. Timestamp fields (*) are
written in the job's timestamp_format. With --json: the API's {field: description} object.`,
		Example: `  flarehose logpush fields http_requests --zone 023e105f4ecef8ad9ca31a8372d0c353
  flarehose logpush fields gateway_dns --account 01a7362d577a6c3019a474fd6f485823 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error {
				ds, err := r.resolveDataset(args[0])
				if err != nil {
					return err
				}
				fields, err := r.c.DatasetFields(r.ctx, r.scope, ds)
				if dry(err) {
					return nil
				}
				if err != nil {
					return r.apiFail("listing the fields of "+ds, err)
				}
				if r.json {
					return lpJSON(r.out, fields)
				}
				d, _ := cfclient.LookupDataset(r.scope.Kind, ds)
				renderFields(r.out, fields, d.TimestampFields)
				return nil
			})
		},
	}
}

func renderFields(w io.Writer, fields map[string]string, timestamps []string) {
	names := sortedKeys(fields)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tDESCRIPTION")
	for _, n := range names {
		mark := ""
		for _, t := range timestamps {
			if t == n {
				mark = " *"
			}
		}
		desc := strings.Join(strings.Fields(fields[n]), " ")
		if len(desc) > 110 {
			desc = desc[:107] + "..."
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", n, mark, desc)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d fields", len(names))
	if len(timestamps) > 0 {
		fmt.Fprint(w, "; * = timestamp (written in the job's timestamp_format)")
	}
	fmt.Fprintln(w)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---------------------------------------------------------------- jobs list / get

func newLPListCmd(s streams, g *lpGlobal) *cobra.Command {
	var dataset string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the Logpush jobs of a zone or account",
		Long: `List the jobs: ID, NAME, DATASET, ENABLED, DESTINATION (secrets masked), LAST_COMPLETE
(end of the last range pushed) and LAST_ERROR (time of the last failure; set means failing
now), followed by the error messages of failing jobs. --json prints the job objects.`,
		Example: `  flarehose logpush jobs list --zone 023e105f4ecef8ad9ca31a8372d0c353
  flarehose logpush jobs list --account 01a7362d577a6c3019a474fd6f485823 --dataset audit_logs --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error {
				ds := ""
				if dataset != "" {
					var err error
					if ds, err = r.resolveDataset(dataset); err != nil {
						return err
					}
				}
				jobs, err := r.c.ListJobs(r.ctx, r.scope, ds)
				if dry(err) {
					return nil
				}
				if err != nil {
					return r.apiFail("listing the Logpush jobs of "+r.scope.String(), err)
				}
				if r.json {
					list := make([]map[string]any, len(jobs))
					for i := range jobs {
						list[i] = jobs[i].Masked()
					}
					return lpJSON(r.out, list)
				}
				if len(jobs) == 0 {
					fmt.Fprintf(r.out, "no Logpush jobs in %s\n", r.scope)
					return nil
				}
				renderJobTable(r.out, jobs)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dataset, "dataset", "", "only the jobs of this dataset")
	return cmd
}

func newLPGetCmd(s streams, g *lpGlobal) *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show one Logpush job in full",
		Example: `  flarehose logpush jobs get 42 --zone 023e105f4ecef8ad9ca31a8372d0c353`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error {
				id, err := jobID(args[0])
				if err != nil {
					return err
				}
				job, err := r.c.GetJob(r.ctx, r.scope, id)
				if dry(err) {
					return nil
				}
				if err != nil {
					return r.apiFail(fmt.Sprintf("reading job %d", id), err)
				}
				return r.printJob(job)
			})
		},
	}
}

func jobID(arg string) (int, error) {
	id, err := strconv.Atoi(arg)
	if err != nil || id < 1 {
		return 0, usagef("job ID %q: want a positive integer ('flarehose logpush jobs list' shows them)", arg)
	}
	return id, nil
}

func (r *lpRun) printJob(j *cfclient.Job) error {
	if r.json {
		return lpJSON(r.out, j.Masked())
	}
	renderJob(r.out, j)
	return nil
}

func lpJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func lpDash(p *string) string {
	if p == nil || *p == "" {
		return "-"
	}
	return *p
}

func renderJobTable(w io.Writer, jobs []cfclient.Job) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tDATASET\tENABLED\tDESTINATION\tLAST_COMPLETE\tLAST_ERROR")
	for _, j := range jobs {
		name := j.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%t\t%s\t%s\t%s\n", j.ID, name, j.Dataset, j.Enabled,
			cfclient.MaskDestination(j.DestinationConf), lpDash(j.LastComplete), lpDash(j.LastError))
	}
	tw.Flush()
	for _, j := range jobs {
		if j.ErrorMessage != nil && *j.ErrorMessage != "" {
			fmt.Fprintf(w, "job %d: %s\n", j.ID, *j.ErrorMessage)
		}
	}
}

// renderJob prints one job as "key: value" lines.
func renderJob(w io.Writer, j *cfclient.Job) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	name := j.Name
	if name == "" {
		name = "-"
	}
	row("id", strconv.Itoa(j.ID))
	row("name", name)
	row("dataset", j.Dataset)
	if j.Kind != "" {
		row("kind", j.Kind)
	}
	row("enabled", strconv.FormatBool(j.Enabled))
	row("destination", cfclient.MaskDestination(j.DestinationConf))
	if fields := j.FieldNames(); fields != nil {
		row(fmt.Sprintf("fields (%d)", len(fields)), wrapList(fields, 90, "\t"))
	}
	if j.OutputOptions != nil {
		ts := j.OutputString("timestamp_format")
		if ts == "" {
			ts = "unixnano (Cloudflare's default)"
		}
		row("timestamp_format", ts)
		var other []string
		for _, k := range sortedKeys(j.OutputOptions) {
			if k != "field_names" && k != "timestamp_format" {
				other = append(other, k+"="+string(j.OutputOptions[k]))
			}
		}
		if other != nil {
			row("output_options", strings.Join(other, " "))
		}
	} else if j.LogpullOptions != "" {
		row("logpull_options", j.LogpullOptions+" (deprecated)")
	}
	if j.Filter != "" {
		row("filter", j.Filter)
	}
	var limits []string
	if j.MaxUploadRecords != nil && *j.MaxUploadRecords > 0 {
		limits = append(limits, fmt.Sprintf("%d records", *j.MaxUploadRecords))
	}
	if j.MaxUploadBytes != nil && *j.MaxUploadBytes > 0 {
		limits = append(limits, fmt.Sprintf("%d bytes", *j.MaxUploadBytes))
	}
	if j.MaxUploadIntervalSeconds != nil && *j.MaxUploadIntervalSeconds > 0 {
		limits = append(limits, fmt.Sprintf("%d s", *j.MaxUploadIntervalSeconds))
	}
	if limits != nil {
		row("max_upload", strings.Join(limits, ", "))
	}
	row("last_complete", lpDash(j.LastComplete))
	row("last_error", lpDash(j.LastError))
	row("error_message", lpDash(j.ErrorMessage))
	tw.Flush()
}

// wrapList joins items with ", ", breaking lines at width; continuation
// lines start with indent.
func wrapList(items []string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, it := range items {
		if i > 0 {
			b.WriteString(",")
			line++
			if line+1+len(it) > width {
				b.WriteString("\n" + indent)
				line = 0
			} else {
				b.WriteString(" ")
				line++
			}
		}
		b.WriteString(it)
		line += len(it)
	}
	return b.String()
}

// ---------------------------------------------------------------- create / update

// jobFlags are create's and update's job settings.
type jobFlags struct {
	dataset, to, url      string
	secret, secretHeader  string
	fields, tsFormat      string
	filter, name          string
	enabled               bool
	maxRecords            int64
	maxBytes, maxInterval string
	challengeFrom         string
	challengeFile         string
	challengeWait         time.Duration
	// The owner's credentials for reading the challenge from the bucket.
	storageEndpoint         string
	s3KeyID, s3Secret       string
	gcsCredentials          string
	azAccount, azKey, azSAS string
	azConnectionString      string
}

// challengeFlags are the flags of the ownership challenge: ignored (with a
// note) for destinations that take none.
var challengeFlags = []string{"challenge-from", "ownership-challenge-file", "storage-endpoint", "s3-access-key-id", "s3-secret-access-key",
	"gcs-credentials", "azure-account", "azure-key", "azure-sas", "azure-connection-string"}

func (f *jobFlags) register(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	if create {
		fl.StringVar(&f.dataset, "dataset", "", "dataset to push (see 'flarehose logpush datasets'); Elastic's names work too")
	}
	fl.StringVar(&f.to, "to", "", "destination: http (with --url; the default when --url is given), an https:// URL, or object storage: s3://BUCKET/PREFIX?region=R, r2://..., gs://..., azure://...")
	fl.StringVar(&f.url, "url", "", "flarehose receiver URL, https://host[:port][/path_prefix]; the job posts to <url>/logpush/<dataset>")
	fl.StringVar(&f.secret, "secret", "", "shared secret the receiver checks (default $"+envSecret+"; prefer the variable: flags show in the process list)")
	fl.StringVar(&f.secretHeader, "secret-header", cfclient.DefaultSecretHeader, "header carrying the secret (the receiver's secret_header)")
	fieldsDef, tsDef := "", ""
	if create {
		fieldsDef, tsDef = "default", "rfc3339ns"
	}
	fl.StringVar(&f.fields, "fields", fieldsDef, "fields: all (every field the API lists), a preset (http_requests: minimal, default, security; elsewhere default = all), or A,B,C")
	fl.StringVar(&f.tsFormat, "timestamp-format", tsDef, "timestamp_format: rfc3339ns, rfc3339ms, rfc3339, unixnano or unix")
	fl.StringVar(&f.filter, "filter", "", `Logpush filter, JSON ({"where":{...}}) or @FILE; "" removes it (update)`)
	fl.StringVar(&f.name, "name", "", "job name: letters, digits, '-' and '.' (default flarehose-<dataset>)")
	if create {
		fl.BoolVar(&f.enabled, "enabled", true, "enable the job (Cloudflare's API default is disabled; use --enabled=false to stage a job)")
	} else {
		fl.BoolVar(&f.enabled, "enabled", false, "--enabled starts the job, --enabled=false stops it")
	}
	fl.Int64Var(&f.maxRecords, "max-upload-records", 0, "records per upload: 1000 to 1000000 (0: Cloudflare's default)")
	fl.StringVar(&f.maxBytes, "max-upload-bytes", "", "uncompressed bytes per upload: 5MB to 1GB (e.g. 50MB)")
	fl.StringVar(&f.maxInterval, "max-upload-interval", "", "longest wait before an upload: 30s to 5m")
	fl.StringVar(&f.challengeFrom, "challenge-from", "", "object storage: read the ownership challenge from a copy of the bucket instead of the bucket: file:///DIR (DIR/<scheme>/<bucket>/<file>, e.g. a synced bucket or 'flarehose sim --ownership-dir')")
	fl.StringVar(&f.challengeFile, "ownership-challenge-file", "", "object storage: a file holding the ownership challenge you copied from the bucket ('-': stdin); skips requesting one")
	fl.DurationVar(&f.challengeWait, "challenge-wait", 30*time.Second, "object storage: how long to wait for the challenge file to appear")
	fl.StringVar(&f.storageEndpoint, "storage-endpoint", "", "object storage: the endpoint to read the challenge from, for S3-compatible stores, GovCloud or emulators (MinIO, fake-gcs-server, Azurite: http://HOST:PORT/ACCOUNT)")
	fl.StringVar(&f.s3KeyID, "s3-access-key-id", "", "S3: access key ID to read the challenge with (default: the AWS chain: AWS_ACCESS_KEY_ID, AWS_PROFILE, shared config, instance role)")
	fl.StringVar(&f.s3Secret, "s3-secret-access-key", "", "S3: secret for --s3-access-key-id (default $AWS_SECRET_ACCESS_KEY; prefer the variable: flags show in the process list)")
	fl.StringVar(&f.gcsCredentials, "gcs-credentials", "", "GCS: service account key file to read the challenge with (default: Application Default Credentials, $GOOGLE_APPLICATION_CREDENTIALS)")
	fl.StringVar(&f.azAccount, "azure-account", "", "Azure: storage account, when the destination does not name it (default $"+cfclient.EnvAzureAccount+")")
	fl.StringVar(&f.azKey, "azure-key", "", "Azure: account key to read the challenge with (default $"+cfclient.EnvAzureKey+"; prefer the variable)")
	fl.StringVar(&f.azSAS, "azure-sas", "", "Azure: SAS with Read to read the challenge with (default $"+cfclient.EnvAzureSAS+"; prefer the variable)")
	fl.StringVar(&f.azConnectionString, "azure-connection-string", "", "Azure: connection string to read the challenge with (default $"+cfclient.EnvAzureConnectionString+"; prefer the variable)")
}

// destination is a parsed --to/--url.
type destination struct {
	conf string                      // destination_conf
	obj  *cfclient.ObjectDestination // object storage, nil for HTTP
}

// httpBase returns the receiver URL --to/--url name ("" and false when
// they name object storage or nothing).
func (f *jobFlags) httpBase() (string, bool, error) {
	to := strings.TrimSpace(f.to)
	switch {
	case to == "" && f.url == "":
		return "", false, nil
	case to == "" || strings.EqualFold(to, "http") || strings.EqualFold(to, "https"):
		if f.url == "" {
			return "", false, usagef("--to %s needs --url https://host[:port] (where flarehose serve listens)", to)
		}
		return f.url, true, nil
	case strings.HasPrefix(to, "https://") || strings.HasPrefix(to, "http://"):
		if f.url != "" {
			return "", false, usagef("give the receiver URL once: --to URL or --url URL")
		}
		return to, true, nil
	}
	if f.url != "" {
		return "", false, usagef("--url is for HTTP destinations; --to %s is object storage", cfclient.MaskDestination(to))
	}
	return "", false, nil
}

// secretValue is --secret, or $FLAREHOSE_SECRET when the flag is absent.
func (f *jobFlags) secretValue(cmd *cobra.Command) string {
	if cmd.Flags().Changed("secret") {
		return f.secret
	}
	return os.Getenv(envSecret)
}

// parseDestination builds the destination_conf from --to/--url for
// dataset. previous is the job's current destination_conf on update ("" on
// create): its secret is kept when no new one is given.
func (r *lpRun) parseDestination(cmd *cobra.Command, f *jobFlags, dataset, previous string) (*destination, error) {
	base, isHTTP, err := f.httpBase()
	if err != nil {
		return nil, err
	}
	if isHTTP {
		secret := f.secretValue(cmd)
		if secret == "" && previous != "" {
			secret, _ = cfclient.HeaderParam(previous, f.secretHeader)
		}
		if secret == "" {
			return nil, usagef("no secret for the receiver: set %s to the secret 'flarehose serve' uses (or pass --secret); Cloudflare sends it in the %s header", envSecret, f.secretHeader)
		}
		r.red.Add(secret)
		conf, err := cfclient.HTTPDestination(base, dataset, f.secretHeader, secret)
		if err != nil {
			return nil, usageError{err}
		}
		if strings.HasPrefix(conf, "http://") {
			fmt.Fprintln(r.errw, "warning: Cloudflare only delivers to https:// destinations with a trusted certificate; http:// works with the simulator only")
		}
		return &destination{conf: conf}, nil
	}
	to := strings.TrimSpace(f.to)
	if to == "" {
		return nil, nil
	}
	obj, err := cfclient.ParseObjectDestination(to)
	if err != nil {
		return nil, usagef("--to: %v (or http with --url)", err)
	}
	for _, k := range []string{"secret-access-key", "sig"} {
		if v := obj.Query.Get(k); v != "" {
			r.red.Add(v)
		}
	}
	if cmd.Flags().Changed("secret") {
		return nil, usagef("--secret is for HTTP destinations; object storage credentials go in the --to URL")
	}
	r.obj = obj
	return &destination{conf: to, obj: obj}, nil
}

// ownershipChallenge gets the token an object storage destination needs
// (none when it needs none): from --ownership-challenge-file, or by asking
// Cloudflare to write one and reading it back, from the bucket with the
// owner's credentials or from --challenge-from.
func (r *lpRun) ownershipChallenge(cmd *cobra.Command, f *jobFlags, d *destination) (string, error) {
	if d.obj == nil || !d.obj.NeedsOwnership() {
		var given []string
		for _, n := range challengeFlags {
			if cmd.Flags().Changed(n) {
				given = append(given, "--"+n)
			}
		}
		if len(given) > 0 {
			fmt.Fprintf(r.errw, "note: %s takes no ownership challenge; %s ignored\n", cfclient.MaskDestination(d.conf), strings.Join(given, ", "))
		}
		return "", nil
	}
	if f.challengeFile != "" {
		var b []byte
		var err error
		if f.challengeFile == "-" {
			b, err = io.ReadAll(io.LimitReader(r.in, 1<<20))
		} else {
			b, err = os.ReadFile(f.challengeFile)
		}
		if err != nil {
			return "", usagef("--ownership-challenge-file: %v", err)
		}
		token, err := cfclient.CheckChallenge(string(b))
		if err != nil {
			return "", usagef("--ownership-challenge-file %s: %v", f.challengeFile, err)
		}
		r.red.Add(token)
		return token, nil
	}
	if d.obj.Scheme == "sumo" {
		return "", r.sumoChallenge(d)
	}
	var reader cfclient.ChallengeReader
	var how string
	if f.challengeFrom != "" {
		var err error
		if reader, err = cfclient.NewChallengeReader(f.challengeFrom); err != nil {
			return "", usagef("--challenge-from %s: %v", f.challengeFrom, err)
		}
		how = "through " + f.challengeFrom
	} else {
		creds, err := r.storageCredentials(f)
		if err != nil {
			return "", err
		}
		br := &cfclient.BucketReader{Creds: creds}
		reader, how = br, br.Describe(d.obj)
	}
	object := d.obj.Scheme + "://" + d.obj.Bucket
	if r.dryRun {
		_, _ = r.c.RequestOwnership(r.ctx, r.scope, d.conf)
		r.c.Note("then read the challenge file it names from %s %s and send its content as ownership_challenge", object, how)
		return cfclient.Mask, nil
	}
	token, filename, err := r.c.OwnershipChallenge(r.ctx, r.scope, d.obj, reader, f.challengeWait)
	if err != nil {
		var ae *cfclient.APIError
		var ce *cfclient.ChallengeError
		switch {
		case errors.As(err, &ae):
			return "", r.apiFail("requesting an ownership challenge", err)
		case errors.As(err, &ce):
			return "", errors.New(ce.Error() + "\n  hint: " + challengeHint(d.obj, ce))
		}
		return "", err
	}
	fmt.Fprintf(r.errw, "ownership challenge read from %s/%s %s\n", object, filename, how)
	return token, nil
}

// challengeHint says what to do about a challenge that could not be read:
// what the reader suggests, and always the manual way.
func challengeHint(dest *cfclient.ObjectDestination, ce *cfclient.ChallengeError) string {
	var hint string
	var bre *cfclient.BucketReadError
	switch {
	case ce.Missing:
		hint = "Cloudflare may need longer (--challenge-wait 2m), or you read another store than Cloudflare wrote to (check the destination's region and --storage-endpoint)"
	case errors.As(ce, &bre):
		hint = bre.Hint
	}
	copyWith := map[string]string{"s3": "aws s3 cp", "gs": "gcloud storage cp", "azure": "az storage blob download"}[dest.Scheme]
	manual := "copy the file"
	if copyWith != "" {
		manual += " (e.g. with " + copyWith + ")"
	}
	manual += " and run this command again with --ownership-challenge-file FILE (the challenge is valid 7 days)"
	if hint == "" {
		return manual
	}
	return hint + "; or " + manual
}

// sumoChallenge asks Cloudflare for the challenge of a Sumo Logic
// destination: it goes to the collector, where flarehose cannot read it.
func (r *lpRun) sumoChallenge(d *destination) error {
	o, err := r.c.RequestOwnership(r.ctx, r.scope, d.conf)
	if dry(err) {
		r.c.Note("then find the challenge in Sumo Logic (flarehose cannot read it there) and pass it with --ownership-challenge-file")
		return nil
	}
	if err != nil {
		return r.apiFail("requesting an ownership challenge", err)
	}
	name := ""
	if o.Filename != "" {
		name = " (" + o.Filename + ")"
	}
	return fmt.Errorf("Cloudflare sent the ownership challenge%s to the Sumo Logic collector %s; flarehose cannot read Sumo Logic: "+
		"find the challenge in that HTTP source's messages and run this command again with --ownership-challenge-file FILE (the challenge is valid 7 days)",
		name, cfclient.MaskDestination(d.conf))
}

// storageCredentials are the owner's credentials for reading the bucket,
// from the flags (their secrets registered with the redactor; the
// environment's too, in case a store's error quotes one).
func (r *lpRun) storageCredentials(f *jobFlags) (cfclient.StorageCredentials, error) {
	c := cfclient.StorageCredentials{Endpoint: strings.TrimSpace(f.storageEndpoint), AccessKeyID: f.s3KeyID, SecretAccessKey: f.s3Secret,
		GCSCredentialsFile: f.gcsCredentials, AzureAccount: f.azAccount, AzureKey: f.azKey, AzureSAS: f.azSAS, AzureConnectionString: f.azConnectionString}
	for _, v := range []string{f.s3Secret, f.azKey, f.azSAS, f.azConnectionString, os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"),
		os.Getenv(cfclient.EnvAzureKey), os.Getenv(cfclient.EnvAzureSAS), os.Getenv(cfclient.EnvAzureConnectionString)} {
		r.red.Add(embeddedSecrets(v)...)
	}
	if c.Endpoint != "" {
		if _, err := objstore.EndpointURL(c.Endpoint); err != nil {
			return c, usagef("--storage-endpoint: %v", err)
		}
	}
	switch {
	case c.AccessKeyID == "" && c.SecretAccessKey != "":
		return c, usagef("--s3-secret-access-key needs --s3-access-key-id")
	case c.AccessKeyID != "" && c.SecretAccessKey == "":
		c.SecretAccessKey, c.SessionToken = os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
		if c.SecretAccessKey == "" {
			return c, usagef("--s3-access-key-id needs its secret: set AWS_SECRET_ACCESS_KEY (or --s3-secret-access-key)")
		}
	}
	if c.GCSCredentialsFile != "" {
		if _, err := os.Stat(c.GCSCredentialsFile); err != nil {
			return c, usagef("--gcs-credentials: %v", err)
		}
	}
	return c, nil
}

// embeddedSecrets returns a credential and the secrets inside it: a
// connection string's AccountKey and SAS, a SAS's signature.
func embeddedSecrets(v string) []string {
	if v == "" {
		return nil
	}
	out := []string{v}
	for _, part := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(part, "=")
		if strings.EqualFold(strings.TrimSpace(k), "AccountKey") || strings.EqualFold(strings.TrimSpace(k), "SharedAccessSignature") {
			out = append(out, val)
			v = val
		}
	}
	if q, err := url.ParseQuery(strings.TrimPrefix(v, "?")); err == nil && q.Get("sig") != "" {
		out = append(out, q.Get("sig"))
	}
	return out
}

// fieldNames resolves --fields for dataset: "all" asks the API (in a dry
// run, a placeholder stands for its answer).
func (r *lpRun) fieldNames(spec, dataset string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, usagef("--fields is empty: give all, a preset or a list A,B,C")
	}
	if !strings.Contains(spec, ",") {
		if dataset == unknownDataset { // dry-run update: the GET was not made
			return []string{"<fields " + spec + " of the job's dataset>"}, nil
		}
		if f, ok := cfclient.Preset(dataset, spec); ok {
			return f, nil
		}
		if spec == "default" || spec == "all" {
			fields, err := r.c.DatasetFields(r.ctx, r.scope, dataset)
			if dry(err) {
				return []string{"<every field of " + dataset + " from the GET above>"}, nil
			}
			if err != nil {
				return nil, r.apiFail("listing the fields of "+dataset+" (for --fields "+spec+")", err)
			}
			if len(fields) == 0 {
				return nil, fmt.Errorf("Cloudflare lists no fields for %s", dataset)
			}
			return sortedKeys(fields), nil
		}
		if presets := cfclient.Presets(dataset); len(presets) > 0 && strings.ToLower(spec) == spec {
			return nil, usagef("--fields %s: %s has the presets %s (or all, or a list A,B,C)", spec, dataset, strings.Join(presets, ", "))
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, usagef("--fields %q names no field", spec)
	}
	return out, nil
}

func readFilter(spec string) (string, error) {
	if spec == "" {
		return "", nil
	}
	if file, ok := strings.CutPrefix(spec, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--filter: %v", err)
		}
		spec = string(b)
	}
	var v struct {
		Where json.RawMessage `json:"where"`
	}
	dec := json.NewDecoder(strings.NewReader(spec))
	if err := dec.Decode(&v); err != nil {
		return "", usagef("--filter: not JSON: %v (example: {\"where\":{\"key\":\"ClientRequestHost\",\"operator\":\"eq\",\"value\":\"example.com\"}})", err)
	}
	if len(v.Where) == 0 || string(v.Where) == "null" {
		return "", usagef(`--filter: the top level must be {"where": ...}`)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(strings.TrimSpace(spec))); err != nil {
		return "", usagef("--filter: %v", err)
	}
	return compact.String(), nil
}

// limits reads --max-upload-*: the job keys to set.
func (f *jobFlags) limits(cmd *cobra.Command, body map[string]any) error {
	fl := cmd.Flags()
	if fl.Changed("max-upload-records") {
		if f.maxRecords < 0 {
			return usagef("--max-upload-records must not be negative")
		}
		body["max_upload_records"] = f.maxRecords
	}
	if fl.Changed("max-upload-bytes") {
		b, err := config.ParseByteSize(f.maxBytes)
		if err != nil {
			return usagef("--max-upload-bytes: %v", err)
		}
		body["max_upload_bytes"] = int64(b)
	}
	if fl.Changed("max-upload-interval") {
		d, err := config.ParseDuration(f.maxInterval)
		if err != nil || d < 0 || d%time.Second != 0 {
			return usagef("--max-upload-interval %q: want whole seconds, 30s to 5m (0: Cloudflare's default)", f.maxInterval)
		}
		body["max_upload_interval_seconds"] = int64(d / time.Second)
	}
	return nil
}

func checkTimestampFormat(v string) error {
	for _, t := range timestampFormats {
		if v == t {
			return nil
		}
	}
	return usagef("--timestamp-format %q: want one of %s", v, strings.Join(timestampFormats, ", "))
}

func checkName(name string) error {
	if len(name) > 512 || !jobNameRe.MatchString(name) {
		return usagef("--name %q: Cloudflare allows letters, digits, '-' and '.' only (no spaces or underscores), at most 512", name)
	}
	return nil
}

func newLPCreateCmd(s streams, g *lpGlobal) *cobra.Command {
	f := &jobFlags{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a Logpush job that delivers a dataset to flarehose",
		Long: `Create a Logpush job and show it.

HTTP (--url, or --to https://...): destination_conf is
  <url>/logpush/<dataset>?header_<secret-header>=<url-encoded secret>
so Cloudflare sends the secret in the header 'flarehose serve' checks. The secret comes
from $FLAREHOSE_SECRET (the variable serve reads) unless --secret is given. A --url with a
path is taken as the receiver's path_prefix (/<dataset> is appended) unless it already ends
in the dataset's name. When the job is created Cloudflare uploads a test file to that URL:
the receiver must be running and reachable from the internet over https with a trusted
certificate, or the creation fails ("error validating destination").

Object storage (--to s3://BUCKET/PREFIX?region=R, gs://BUCKET/PREFIX,
azure://CONTAINER/PREFIX?SAS; r2:// and s3:// with keys in the URL need no challenge):
Cloudflare first proves you own the bucket. flarehose asks it to write a challenge file
there (POST .../logpush/ownership), reads the file back from the bucket with YOUR
credentials (Cloudflare writes with its own) and creates the job with the token:
  S3     the AWS default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
         shared config, SSO, instance role; AWS_ENDPOINT_URL_S3 or --storage-endpoint for
         S3-compatible stores and GovCloud. Or --s3-access-key-id.
  GCS    Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, 'gcloud auth
         application-default login', the metadata server; STORAGE_EMULATOR_HOST for an
         emulator. Or --gcs-credentials FILE (a service account key).
  Azure  AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN (a SAS with Read) or
         AZURE_STORAGE_KEY (the account from the destination's host, AZURE_STORAGE_ACCOUNT
         or --azure-account), or the matching --azure-* flags; the destination's own SAS
         last, which usually cannot read (Cloudflare needs only Write).
A file not there yet is retried for --challenge-wait. When the bucket cannot be read, the
error names the file, the credentials tried and why: copy the file (aws s3 cp, gcloud
storage cp, az storage blob download) and pass --ownership-challenge-file FILE (valid 7
days). --challenge-from file:///DIR reads a synced copy, DIR/<scheme>/<bucket>/<file>,
instead of the bucket. A sumo:// challenge goes to the Sumo Logic collector: find it there
and pass it with --ownership-challenge-file. Secrets given as flags are masked in every
output, but show in the process list: prefer the variables.

Choices:
  --fields default      http_requests: the fields flarehose's store, UI and Elastic's
                        dashboards use (presets: minimal, default, security); other
                        datasets: all. 'all' = every field the API lists (GET .../fields).
  --timestamp-format    rfc3339ns: flarehose reads every format; this one is exact to the
                        nanosecond like the API's unixnano, unambiguous, and readable in
                        event.original and dead letters.
  --enabled             true: the API creates jobs disabled, which looks like a broken
                        setup (only the test upload arrives); --enabled=false stages one.`,
		Example: `  export CLOUDFLARE_API_TOKEN=... FLAREHOSE_SECRET=...
  flarehose logpush jobs create --zone 023e105f4ecef8ad9ca31a8372d0c353 \
      --dataset http_requests --url https://logs.example.com:9560
  flarehose logpush jobs create --zone 023e105f4ecef8ad9ca31a8372d0c353 --dataset firewall_events \
      --url https://logs.example.com:9560 --filter '{"where":{"key":"Action","operator":"eq","value":"block"}}'
  AWS_PROFILE=logs-admin flarehose logpush jobs create --account 01a7362d577a6c3019a474fd6f485823 \
      --dataset audit_logs --to 's3://my-bucket/cloudflare/audit/{DATE}?region=us-east-1'
  GOOGLE_APPLICATION_CREDENTIALS=~/reader-key.json flarehose logpush jobs create \
      --zone 023e105f4ecef8ad9ca31a8372d0c353 --dataset http_requests --to 'gs://my-bucket/cloudflare/http'
  flarehose logpush jobs create --zone 023e105f4ecef8ad9ca31a8372d0c353 --dataset http_requests \
      --url https://logs.example.com:9560 --fields security --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error { return r.create(cmd, f) })
		},
	}
	f.register(cmd, true)
	return cmd
}

func (r *lpRun) create(cmd *cobra.Command, f *jobFlags) error {
	ds, err := r.resolveDataset(f.dataset)
	if err != nil {
		return err
	}
	if err := checkTimestampFormat(f.tsFormat); err != nil {
		return err
	}
	name := f.name
	if !cmd.Flags().Changed("name") {
		name = "flarehose-" + strings.ReplaceAll(ds, "_", "-")
	}
	if err := checkName(name); err != nil {
		return err
	}
	filter, err := readFilter(f.filter)
	if err != nil {
		return err
	}
	dest, err := r.parseDestination(cmd, f, ds, "")
	if err != nil {
		return err
	}
	if dest == nil {
		return usagef("where should Cloudflare push? --url https://host[:port] (a flarehose receiver) or --to s3://BUCKET/PREFIX?region=R (object storage)")
	}
	body := map[string]any{"dataset": ds, "destination_conf": dest.conf, "enabled": f.enabled, "name": name}
	if err := f.limits(cmd, body); err != nil {
		return err
	}
	if filter != "" {
		body["filter"] = filter
	}
	fields, err := r.fieldNames(f.fields, ds)
	if err != nil {
		return err
	}
	body["output_options"] = map[string]any{"field_names": fields, "timestamp_format": f.tsFormat}
	token, err := r.ownershipChallenge(cmd, f, dest)
	if err != nil {
		return err
	}
	if token != "" {
		body["ownership_challenge"] = token
	}
	job, err := r.c.CreateJob(r.ctx, r.scope, body)
	if dry(err) {
		return nil
	}
	if err != nil {
		return r.apiFail("creating the "+ds+" job", err)
	}
	if dest.obj == nil {
		fmt.Fprintf(r.errw, "created job %d: Cloudflare's test upload to %s was accepted", job.ID, cfclient.MaskDestination(dest.conf))
		if job.Enabled {
			fmt.Fprint(r.errw, "; logs follow within about a minute")
		} else {
			fmt.Fprintf(r.errw, "; the job is disabled: 'flarehose logpush jobs enable %d' starts it", job.ID)
		}
		fmt.Fprintln(r.errw)
	} else {
		fmt.Fprintf(r.errw, "created job %d\n", job.ID)
	}
	return r.printJob(job)
}

func newLPUpdateCmd(s streams, g *lpGlobal) *cobra.Command {
	f := &jobFlags{}
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a Logpush job (what you do not change is kept)",
		Long: `Change a job's name, enabled state, fields, timestamp format, filter, upload limits or
destination. Only the flags you give change anything.

Cloudflare's PUT replaces output_options in full: a key left out goes back to its default
(timestamp_format to unixnano). So update reads the job first and, when you change --fields
or --timestamp-format, sends its current output_options with your change merged in (a job
still on the deprecated logpull_options gets them converted). Other keys are sent only when
you change them.

Destination: --url or --to sets a new one (the job's dataset names the path; the secret is
--secret, $FLAREHOSE_SECRET, or else the one the job has); --secret alone rotates the secret
in the current destination. Cloudflare checks a new destination as on create (a test upload,
or, for object storage, an ownership challenge that update reads from the new bucket with
your credentials, the --storage-endpoint, --s3-*, --gcs-* and --azure-* flags and
variables of 'create --help', or takes from --ownership-challenge-file).`,
		Example: `  flarehose logpush jobs update 42 --zone 023e105f4ecef8ad9ca31a8372d0c353 --fields security
  flarehose logpush jobs update 42 --zone 023e105f4ecef8ad9ca31a8372d0c353 --secret "$NEW_SECRET"
  flarehose logpush jobs update 42 --zone 023e105f4ecef8ad9ca31a8372d0c353 --filter ''
  flarehose logpush jobs update 42 --zone 023e105f4ecef8ad9ca31a8372d0c353 --max-upload-interval 60s --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error {
				id, err := jobID(args[0])
				if err != nil {
					return err
				}
				return r.update(cmd, f, id)
			})
		},
	}
	f.register(cmd, false)
	return cmd
}

func (r *lpRun) update(cmd *cobra.Command, f *jobFlags, id int) error {
	fl := cmd.Flags()
	changed := func(names ...string) bool {
		for _, n := range names {
			if fl.Changed(n) {
				return true
			}
		}
		return false
	}
	if !changed("name", "enabled", "fields", "timestamp-format", "filter", "max-upload-records", "max-upload-bytes",
		"max-upload-interval", "to", "url", "secret", "secret-header") {
		return usagef("nothing to update: give --name, --enabled, --fields, --timestamp-format, --filter, --max-upload-*, --url/--to or --secret")
	}
	if changed("secret-header") && !changed("secret", "url", "to") {
		return usagef("--secret-header names the header for --secret, --url or --to: give one of them too")
	}
	if changed("timestamp-format") {
		if err := checkTimestampFormat(f.tsFormat); err != nil {
			return err
		}
	}
	if changed("name") {
		if err := checkName(f.name); err != nil {
			return err
		}
	}
	body := map[string]any{}
	if err := f.limits(cmd, body); err != nil {
		return err
	}
	if changed("filter") {
		filter, err := readFilter(f.filter)
		if err != nil {
			return err
		}
		body["filter"] = filter
	}
	if changed("secret") {
		r.red.Add(f.secret)
	}
	cur, err := r.c.GetJob(r.ctx, r.scope, id)
	switch {
	case dry(err):
		r.c.Note("the PUT below assumes the job read by this GET; output_options would be its current ones with the changes merged in")
		cur = &cfclient.Job{ID: id, Dataset: unknownDataset, DestinationConf: "CURRENT-DESTINATION", Raw: map[string]json.RawMessage{}}
	case err != nil:
		return r.apiFail(fmt.Sprintf("reading job %d", id), err)
	}
	if changed("name") {
		body["name"] = f.name
	}
	if changed("enabled") {
		body["enabled"] = f.enabled
	}
	if changed("fields", "timestamp-format") {
		oo, err := r.mergeOutputOptions(cmd, f, cur)
		if err != nil {
			return err
		}
		body["output_options"] = oo
	}
	var dest *destination
	switch {
	case changed("to", "url"):
		if dest, err = r.parseDestination(cmd, f, cur.Dataset, cur.DestinationConf); err != nil {
			return err
		}
	case changed("secret"):
		if !strings.HasPrefix(cur.DestinationConf, "https://") && !strings.HasPrefix(cur.DestinationConf, "http://") && !r.dryRun {
			return usagef("--secret rotates the secret of an HTTP destination; job %d sends to %s", id, cfclient.MaskDestination(cur.DestinationConf))
		}
		if f.secret == "" {
			return usagef("--secret is empty")
		}
		if _, ok := cfclient.HeaderParam(cur.DestinationConf, f.secretHeader); !ok && !changed("secret-header") && !r.dryRun {
			if others := cfclient.HeaderParams(cur.DestinationConf); len(others) > 0 {
				return usagef("job %d sends its secret in %s, not %s: add --secret-header %s", id, strings.Join(others, ", "), f.secretHeader, others[0])
			}
		}
		conf, err := cfclient.SetHeaderParam(cur.DestinationConf, f.secretHeader, f.secret)
		if err != nil {
			return usageError{err}
		}
		dest = &destination{conf: conf}
	}
	if dest != nil && dest.conf != cur.DestinationConf {
		body["destination_conf"] = dest.conf
		token, err := r.ownershipChallenge(cmd, f, dest)
		if err != nil {
			return err
		}
		if token != "" {
			body["ownership_challenge"] = token
		}
	}
	job, err := r.c.UpdateJob(r.ctx, r.scope, id, body)
	if dry(err) {
		return nil
	}
	if err != nil {
		return r.apiFail(fmt.Sprintf("updating job %d", id), err)
	}
	fmt.Fprintf(r.errw, "updated job %d\n", id)
	return r.printJob(job)
}

// mergeOutputOptions returns the job's output_options with --fields and
// --timestamp-format applied (PUT replaces them in full).
func (r *lpRun) mergeOutputOptions(cmd *cobra.Command, f *jobFlags, cur *cfclient.Job) (map[string]any, error) {
	oo := map[string]any{}
	for k, v := range cur.OutputOptions {
		oo[k] = v
	}
	if cur.OutputOptions == nil && cur.LogpullOptions != "" {
		converted, err := logpullToOutput(cur.LogpullOptions)
		if err != nil {
			return nil, fmt.Errorf("job %d uses logpull_options %q, which flarehose cannot convert to output_options: %v", cur.ID, cur.LogpullOptions, err)
		}
		oo = converted
		fmt.Fprintf(r.errw, "note: job %d used the deprecated logpull_options; they are now sent as output_options\n", cur.ID)
	}
	if cmd.Flags().Changed("fields") {
		fields, err := r.fieldNames(f.fields, cur.Dataset)
		if err != nil {
			return nil, err
		}
		oo["field_names"] = fields
	}
	if cmd.Flags().Changed("timestamp-format") {
		oo["timestamp_format"] = f.tsFormat
	}
	return oo, nil
}

// logpullToOutput converts deprecated logpull_options (fields=...&
// timestamps=...&sample=...&CVE-2021-44228=...) to output_options.
func logpullToOutput(s string) (map[string]any, error) {
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, err
	}
	oo := map[string]any{}
	for k, vs := range q {
		v := vs[0]
		switch k {
		case "fields":
			if v != "" {
				oo["field_names"] = strings.Split(v, ",")
			}
		case "timestamps":
			oo["timestamp_format"] = v
		case "sample":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("sample=%q", v)
			}
			oo["sample_rate"] = f
		case "CVE-2021-44228":
			oo["CVE-2021-44228"] = v == "true"
		default:
			return nil, fmt.Errorf("unknown option %q", k)
		}
	}
	return oo, nil
}

// ---------------------------------------------------------------- enable / disable / delete

func newLPToggleCmd(s streams, g *lpGlobal, enable bool) *cobra.Command {
	use, short, verb := "enable ID", "Enable a Logpush job (it starts pushing)", "enabling"
	if !enable {
		use, short, verb = "disable ID", "Disable a Logpush job (it stops pushing and keeps its settings)", "disabling"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  flarehose logpush jobs " + strings.Fields(use)[0] + " 42 --zone 023e105f4ecef8ad9ca31a8372d0c353",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error {
				id, err := jobID(args[0])
				if err != nil {
					return err
				}
				job, err := r.c.UpdateJob(r.ctx, r.scope, id, map[string]any{"enabled": enable})
				if dry(err) {
					return nil
				}
				if err != nil {
					return r.apiFail(fmt.Sprintf("%s job %d", verb, id), err)
				}
				return r.printJob(job)
			})
		},
	}
}

func newLPDeleteCmd(s streams, g *lpGlobal) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a Logpush job",
		Long: `Delete a job (no confirmation: use 'disable' to stop one and keep its settings). It reads
the job first to say what was deleted.`,
		Example: "  flarehose logpush jobs delete 42 --zone 023e105f4ecef8ad9ca31a8372d0c353",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, s, true, true, func(r *lpRun) error {
				id, err := jobID(args[0])
				if err != nil {
					return err
				}
				job, err := r.c.GetJob(r.ctx, r.scope, id)
				if err != nil && !dry(err) {
					return r.apiFail(fmt.Sprintf("reading job %d", id), err)
				}
				err = r.c.DeleteJob(r.ctx, r.scope, id)
				if dry(err) {
					return nil
				}
				if err != nil {
					return r.apiFail(fmt.Sprintf("deleting job %d", id), err)
				}
				if r.json {
					return lpJSON(r.out, map[string]any{"id": id, "deleted": true})
				}
				name := job.Name
				if name == "" {
					name = "-"
				}
				fmt.Fprintf(r.out, "deleted job %d (%s, %s -> %s)\n", id, name, job.Dataset, cfclient.MaskDestination(job.DestinationConf))
				return nil
			})
		},
	}
}
