package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/api"
	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/registry"
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/search/esquery"
	"github.com/flarehose/flarehose/internal/service"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
	"github.com/flarehose/flarehose/internal/store"
)

type searchFlags struct {
	since, until, dataset, order string
	limit, offset                int
	jsonOut                      bool
	dataDir, server, configPath  string
	sink                         string
}

func newSearchCmd(s streams) *cobra.Command {
	var f searchFlags
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search stored events with the search language",
		Long: `Search the stored events: the embedded DuckDB store, or the Elasticsearch/OpenSearch
data streams an elasticsearch sink writes. The query language is KQL-like:

  field:value                 source.ip:203.0.113.7   http.request.method:POST
  field:"a phrase"            user_agent.name:"Mobile Safari"
  wildcards                   url.path:/wp-*          url.domain:*.example.com
  ranges                      http.response.status_code >= 500   field:[400 TO 499]
  CIDR                        source.ip:203.0.113.0/24
  exists                      user.email:*
  free text                   "wp-login.php"
  AND / OR / NOT, ( )         event.action:block AND NOT source.geo.country_iso_code:US

What is searched:
  without --config     the DuckDB store in --data-dir (default ./flarehose-data)
  with --config FILE   one of the file's sinks: --sink NAME, or by default its duckdb sink,
                       else its first elasticsearch sink
  --server URL         a running flarehose's API, whatever it stores into

A duckdb sink: while 'flarehose serve' runs, the store is held by it and the search goes
through its API (the address it recorded in the data directory, else http.listen from
--config, default 127.0.0.1:8080).

An elasticsearch sink: the cluster is searched directly, with the sink's urls, credentials,
tls and namespace (data streams logs-<dataset>-<namespace>); no data directory and no
running flarehose are needed.`,
		Example: `  flarehose search 'http.response.status_code >= 500' --since 1h
  flarehose search 'event.action:block' --dataset firewall_events --limit 20 --json
  flarehose search --since 7d --dataset audit_logs 'event.action:token_create'
  flarehose search -c flarehose.yaml --sink opensearch 'source.ip:203.0.113.0/24'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := ""
			if len(args) == 1 {
				q = args[0]
			}
			return runSearch(cmd.Context(), s, f, q)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "24h", "start: a duration before now (15m, 1h, 7d) or an RFC 3339 time")
	fl.StringVar(&f.until, "until", "", "end (exclusive), same forms as --since (default now)")
	fl.StringVar(&f.dataset, "dataset", "", "only this dataset (http_requests, firewall_events, audit_logs, ...)")
	fl.IntVar(&f.limit, "limit", 20, "number of events to print (max 10000)")
	fl.IntVar(&f.offset, "offset", 0, "events to skip")
	fl.StringVar(&f.order, "order", "desc", "desc (newest first) or asc")
	fl.BoolVar(&f.jsonOut, "json", false, "print each event's ECS document as one JSON line")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory of the store (default ./flarehose-data, or data_dir from --config)")
	fl.StringVar(&f.server, "server", "", "search through a running flarehose at this URL instead of opening the store")
	fl.StringVarP(&f.configPath, "config", "c", "", "configuration file (its sinks, data_dir and http.listen)")
	fl.StringVar(&f.sink, "sink", "", "with --config: search the sink of this name (default: the duckdb sink, else the first elasticsearch sink)")
	return cmd
}

func runSearch(ctx context.Context, s streams, f searchFlags, q string) error {
	v := url.Values{"q": {q}, "since": {f.since}, "until": {f.until}, "dataset": {f.dataset},
		"limit": {fmt.Sprint(f.limit)}, "offset": {fmt.Sprint(f.offset)}, "order": {f.order}}
	req, err := api.ParseRequest(v, time.Now())
	if err != nil {
		return usageError{err}
	}
	// A query that does not parse is the user's mistake whatever is searched:
	// say so before opening anything.
	if _, err := search.Parse(req.Query); err != nil {
		return usageError{err}
	}
	if f.sink != "" && f.server != "" {
		return usagef("--sink and --server go separately: a running flarehose searches its own sink")
	}
	if f.sink != "" && f.configPath == "" {
		return usagef("--sink needs --config FILE, where the sinks are named")
	}
	cfg := config.Defaults()
	if f.configPath != "" {
		if cfg, err = config.Load(f.configPath); err != nil {
			return err
		}
	}
	dataDir := cfg.DataDir
	if f.dataDir != "" {
		dataDir = f.dataDir
	}
	server := f.server
	var res *search.Result
	if server == "" {
		t := searchTarget{storePath: filepath.Join(dataDir, store.DefaultFile)}
		if f.configPath != "" {
			if t, err = pickSink(cfg, f.configPath, f.sink, dataDir); err != nil {
				return err
			}
		}
		if t.storePath == "" {
			res, err = searchSink(ctx, t, req)
			if err != nil {
				return err
			}
			return printHits(s, res, f.jsonOut)
		}
		res, err = searchLocal(ctx, t.storePath, req)
		if errors.Is(err, store.ErrLocked) {
			server = "http://" + cfg.HTTP.Listen
			if b, rerr := os.ReadFile(filepath.Join(dataDir, service.AddrFile)); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
				server = "http://" + strings.TrimSpace(string(b))
			}
		} else if err != nil {
			return err
		}
	}
	if server != "" {
		c := api.Client{BaseURL: server}
		if res, err = c.Search(ctx, req); err != nil {
			var se *api.StatusError
			if errors.As(err, &se) && se.BadRequest() {
				return usageError{errors.New(se.Message)}
			}
			if f.server != "" {
				return fmt.Errorf("searching through %s failed: %w", server, err)
			}
			return fmt.Errorf("the store is in use by a running flarehose; searching through %s failed: %w", server, err)
		}
	}
	return printHits(s, res, f.jsonOut)
}

// searchTarget is what a search reads: the DuckDB file at storePath, or,
// when storePath is "", the search engine of the sink built from cfg.
type searchTarget struct {
	sink       string // the sink's name; "" without --config
	configPath string
	storePath  string
	factory    registry.SinkFactory
	cfg        registry.Validator
}

// searchable reports whether flarehose search can read a sink of this type:
// the DuckDB store, or a type whose factory has a search engine.
func searchable(typ string) bool {
	if typ == "duckdb" {
		return true
	}
	f, err := registry.Sink(typ)
	return err == nil && f.Engine != nil
}

// pickSink chooses the sink of the configuration to search: the one named
// (--sink), else the first duckdb sink, else the first other searchable sink
// (elasticsearch).
func pickSink(cfg *config.Config, path, name, dataDir string) (searchTarget, error) {
	var list []string
	for _, c := range cfg.Sinks {
		list = append(list, fmt.Sprintf("%s (%s)", c.Name, c.Type))
	}
	sinks := strings.Join(list, ", ")
	find := func(match func(config.Component) bool) *config.Component {
		for i := range cfg.Sinks {
			if match(cfg.Sinks[i]) {
				return &cfg.Sinks[i]
			}
		}
		return nil
	}
	var comp *config.Component
	if name != "" {
		comp = find(func(c config.Component) bool { return c.Name == name })
		switch {
		case comp == nil && len(cfg.Sinks) == 0:
			return searchTarget{}, usagef("--sink %q: %s has no sinks", name, path)
		case comp == nil:
			return searchTarget{}, usagef("--sink %q: %s has no sink of that name (its sinks: %s)", name, path, sinks)
		case !searchable(comp.Type):
			return searchTarget{}, usagef("--sink %q: a %s sink cannot be searched (flarehose search reads duckdb and elasticsearch sinks)", name, comp.Type)
		}
	} else {
		comp = find(func(c config.Component) bool { return c.Type == "duckdb" })
		if comp == nil {
			comp = find(func(c config.Component) bool { return searchable(c.Type) })
		}
		switch {
		case comp == nil && len(cfg.Sinks) == 0:
			return searchTarget{}, fmt.Errorf("%s has no sinks, so nothing to search: add a duckdb or elasticsearch sink under sinks:", path)
		case comp == nil:
			return searchTarget{}, fmt.Errorf("%s has no searchable sink (its sinks: %s): flarehose search reads duckdb and elasticsearch sinks", path, sinks)
		}
	}
	f, scfg, err := registry.DecodeSink(*comp)
	if err != nil {
		return searchTarget{}, fmt.Errorf("%s: %w", path, err)
	}
	t := searchTarget{sink: comp.Name, configPath: path, factory: f, cfg: scfg}
	if sc, ok := scfg.(*store.SinkConfig); ok {
		// Opened read-only here; building it as a sink would lock it.
		t.storePath = sc.Path
		if !filepath.IsAbs(t.storePath) {
			t.storePath = filepath.Join(dataDir, t.storePath)
		}
	}
	return t, nil
}

// searchSink searches a sink that is not the DuckDB store (Elasticsearch,
// OpenSearch) directly, through the engine the registry gives its type: the
// same engine the UI and API use.
func searchSink(ctx context.Context, t searchTarget, req search.Request) (*search.Result, error) {
	what := fmt.Sprintf("sink %q (%s)", t.sink, t.factory.Type)
	if t.factory.Engine == nil {
		return nil, fmt.Errorf("%s cannot be searched", what)
	}
	sk, err := t.factory.Build(t.sink, t.cfg, sink.Deps{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, redactSecrets(fmt.Errorf("%s: %w", what, err), t.cfg)
	}
	defer sk.Close()
	eng := t.factory.Engine(sk)
	if p, ok := eng.(interface{ Ping(context.Context) error }); ok {
		if err := p.Ping(ctx); err != nil {
			switch {
			case errors.Is(err, esquery.ErrUnauthorized):
				err = fmt.Errorf("%s: authentication failed: %w; check its username/password, api_key or bearer_token in %s", what, err, t.configPath)
			case errors.Is(err, elasticsearch.ErrUnavailable):
				err = fmt.Errorf("%s: cannot reach the cluster (check its urls in %s and that the cluster is up): %w", what, t.configPath, err)
			case ctx.Err() != nil:
				err = ctx.Err()
			default:
				err = fmt.Errorf("%s: cannot search this cluster: %w", what, err)
			}
			return nil, redactSecrets(err, t.cfg)
		}
	}
	res, err := eng.Search(ctx, req)
	if err != nil {
		if errors.Is(err, search.ErrInvalidQuery) {
			return nil, usageError{err}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, redactSecrets(fmt.Errorf("%s: search failed: %w", what, err), t.cfg)
	}
	if res.Total == 0 {
		// Nothing found: say so plainly when it is because nothing was
		// written yet (not checked when the data streams cannot be listed,
		// e.g. without the privilege to).
		if l, ok := eng.(interface {
			DataStreams(context.Context) ([]string, error)
		}); ok {
			if ds, err := l.DataStreams(ctx); err == nil && len(ds) == 0 {
				ns := ""
				if c, ok := t.cfg.(*elasticsearch.Config); ok {
					ns = fmt.Sprintf(" for namespace %q (logs-cloudflare*-%s)", c.Namespace, c.Namespace)
				}
				return nil, fmt.Errorf("%s: no data streams yet%s: nothing has been stored there; run 'flarehose serve' with this sink first", what, ns)
			}
		}
	}
	return res, nil
}

// redactSecrets makes sure no credential of an elasticsearch sink's config
// appears in an error message, whatever the cluster or a proxy echoed.
func redactSecrets(err error, cfg registry.Validator) error {
	c, ok := cfg.(*elasticsearch.Config)
	if !ok || err == nil {
		return err
	}
	msg := err.Error()
	secrets := []string{c.Password, c.APIKey, c.BearerToken}
	if c.Username != "" || c.Password != "" {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Password)))
	}
	redacted := msg
	for _, sec := range secrets {
		if sec != "" {
			redacted = strings.ReplaceAll(redacted, sec, "[REDACTED]")
		}
	}
	if redacted == msg {
		return err
	}
	var ue usageError
	if errors.As(err, &ue) {
		return usageError{errors.New(redacted)}
	}
	return errors.New(redacted)
}

func searchLocal(ctx context.Context, path string, req search.Request) (*search.Result, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no store at %s: run 'flarehose serve' or 'flarehose demo' first, or pass --data-dir", path)
	}
	st, err := store.OpenReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	res, err := st.Search(ctx, req)
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, usageError{err}
	}
	return res, err
}

func printHits(s streams, res *search.Result, jsonOut bool) error {
	if jsonOut {
		for _, h := range res.Hits {
			s.out.Write(h.Doc)
			fmt.Fprintln(s.out)
		}
	} else {
		tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tDATASET\tEVENT")
		for _, h := range res.Hits {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Time.UTC().Format("2006-01-02T15:04:05.000Z"), h.Dataset, summarize(h.Doc))
		}
		tw.Flush()
	}
	fmt.Fprintf(s.err, "%d of %d matching events (%.1f ms)\n", len(res.Hits), res.Total, res.Took)
	return nil
}

// summaryFields are shown, when present, on one line per event.
var summaryFields = [][]string{
	{"event", "action"}, {"source", "ip"}, {"source", "geo", "country_iso_code"}, {"http", "request", "method"},
	{"url", "original"}, {"http", "response", "status_code"}, {"user", "email"}, {"rule", "id"}, {"message"},
}

// summarize renders a document's key fields as "field=value" pairs.
func summarize(doc []byte) string {
	v, err := fastjson.ParseBytes(doc)
	if err != nil {
		return string(doc)
	}
	var b strings.Builder
	for _, path := range summaryFields {
		f := v.Get(path...)
		if f == nil {
			continue
		}
		val := ""
		if f.Type() == fastjson.TypeString {
			val = string(f.GetStringBytes())
		} else {
			val = f.String()
		}
		if len(val) > 120 {
			val = val[:117] + "..."
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(path[len(path)-1])
		b.WriteByte('=')
		b.WriteString(val)
	}
	return b.String()
}
