package cli

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/service"
	"github.com/flarehose/flarehose/internal/store"
)

type searchFlags struct {
	since, until, dataset, order string
	limit, offset                int
	jsonOut                      bool
	dataDir, server, configPath  string
}

func newSearchCmd(s streams) *cobra.Command {
	var f searchFlags
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search stored events with the search language",
		Long: `Search the embedded store. The query language is KQL-like:

  field:value                 source.ip:203.0.113.7   http.request.method:POST
  field:"a phrase"            user_agent.name:"Mobile Safari"
  wildcards                   url.path:/wp-*          url.domain:*.example.com
  ranges                      http.response.status_code >= 500   field:[400 TO 499]
  CIDR                        source.ip:203.0.113.0/24
  exists                      user.email:*
  free text                   "wp-login.php"
  AND / OR / NOT, ( )         event.action:block AND NOT source.geo.country_iso_code:US

While 'flarehose serve' runs, the store is held by it and the search goes through
its API (--server, default http://127.0.0.1:8080, or http.listen from --config).`,
		Example: `  flarehose search 'http.response.status_code >= 500' --since 1h
  flarehose search 'event.action:block' --dataset firewall_events --limit 20 --json
  flarehose search --since 7d --dataset audit_logs 'event.action:token_create'`,
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
	fl.StringVarP(&f.configPath, "config", "c", "", "configuration file (for data_dir and http.listen)")
	return cmd
}

func runSearch(ctx context.Context, s streams, f searchFlags, q string) error {
	v := url.Values{"q": {q}, "since": {f.since}, "until": {f.until}, "dataset": {f.dataset},
		"limit": {fmt.Sprint(f.limit)}, "offset": {fmt.Sprint(f.offset)}, "order": {f.order}}
	req, err := api.ParseRequest(v, time.Now())
	if err != nil {
		return usageError{err}
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
		res, err = searchLocal(ctx, filepath.Join(dataDir, store.DefaultFile), req)
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
			return fmt.Errorf("the store is in use by a running flarehose; searching through %s failed: %w", server, err)
		}
	}
	return printHits(s, res, f.jsonOut)
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
