package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flarehose/flarehose/internal/config"
	"github.com/flarehose/flarehose/internal/normalize"
)

type fieldsFlags struct {
	unknown    bool
	jsonOut    bool
	dataDir    string
	configPath string
}

func newFieldsCmd(s streams) *cobra.Command {
	var f fieldsFlags
	cmd := &cobra.Command{
		Use:   "fields [DATASET]",
		Short: "List a dataset's ECS fields, or the unknown fields seen",
		Long: `fields lists the fields of the ECS documents a dataset produces: the path in the
document, its Elastic mapping type and the Cloudflare field it comes from ("-" for
derived and constant fields). The same definitions make the store's columns and the
Elasticsearch index templates. Without DATASET it lists the datasets.

With --unknown it shows the fields records carried that their dataset's mapping does not
know (kept in the documents under the dataset's namespace, snake_cased): how Cloudflare's
new fields show up. A running flarehose saves them to <data_dir>/` + normalize.UnknownFieldsFile + `;
DATASET narrows the list.

Datasets are named as Cloudflare does (http_requests) or as Elastic does
(cloudflare_logpush.http_request, cloudflare.audit, ...).`,
		Example: `  # The datasets
  flarehose fields

  # Every field of http_requests documents, with types and sources
  flarehose fields http_requests

  # The same as JSON (path, type, source), e.g. to build an index template
  flarehose fields cloudflare.logpull --json

  # Fields Cloudflare sent that no mapping knows yet
  flarehose fields --unknown --data-dir /var/lib/flarehose
  flarehose fields --unknown firewall_events`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dataset := ""
			if len(args) == 1 {
				canonical, ok := normalize.Resolve(args[0])
				if !ok {
					return usagef("unknown dataset %q (known: %s)", args[0], strings.Join(normalize.Datasets(), ", "))
				}
				dataset = canonical
			}
			switch {
			case f.unknown:
				return runFieldsUnknown(s, f, dataset)
			case dataset == "":
				return listDatasets(s, f.jsonOut)
			}
			return listFields(s, dataset, f.jsonOut)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.unknown, "unknown", false, "show the unknown fields a running flarehose recorded")
	fl.BoolVar(&f.jsonOut, "json", false, "print JSON instead of a table")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory, for --unknown (default ./flarehose-data, or data_dir from --config)")
	fl.StringVarP(&f.configPath, "config", "c", "", "configuration file (for data_dir)")
	return cmd
}

func listDatasets(s streams, jsonOut bool) error {
	type row struct {
		Dataset string `json:"dataset"`
		Elastic string `json:"elastic"`
		Fields  int    `json:"fields"`
	}
	var rows []row
	for _, ds := range normalize.Datasets() {
		defs, _ := normalize.FieldDefs(ds)
		rows = append(rows, row{ds, normalize.ElasticDataset(ds), len(defs)})
	}
	if jsonOut {
		return writeJSON(s, rows)
	}
	tw := tabwriter.NewWriter(s.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tELASTIC DATASET\tFIELDS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", r.Dataset, r.Elastic, r.Fields)
	}
	return tw.Flush()
}

func listFields(s streams, dataset string, jsonOut bool) error {
	defs, _ := normalize.FieldDefs(dataset)
	if jsonOut {
		type def struct {
			Path   string `json:"path"`
			Type   string `json:"type"`
			Source string `json:"source,omitempty"`
		}
		out := make([]def, len(defs))
		for i, d := range defs {
			out[i] = def{d.Path, d.Type, d.Source}
		}
		return writeJSON(s, out)
	}
	tw := tabwriter.NewWriter(s.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\tSOURCE")
	for _, d := range defs {
		src := d.Source
		if src == "" {
			src = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Path, d.Type, src)
	}
	return tw.Flush()
}

func runFieldsUnknown(s streams, f fieldsFlags, dataset string) error {
	cfg := config.Defaults()
	if f.configPath != "" {
		var err error
		if cfg, err = config.Load(f.configPath); err != nil {
			return err
		}
	}
	dataDir := cfg.DataDir
	if f.dataDir != "" {
		dataDir = f.dataDir
	}
	path := filepath.Join(dataDir, normalize.UnknownFieldsFile)
	rep, err := normalize.ReadUnknownFields(path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(s.err, "no unknown fields recorded in %s (flarehose saves them there while it runs; pass --data-dir to look elsewhere)\n", dataDir)
		if f.jsonOut {
			return writeJSON(s, []struct{}{})
		}
		return nil
	}
	if err != nil {
		return err
	}
	type row struct {
		Dataset string `json:"dataset"`
		normalize.UnknownField
	}
	var rows []row
	overflow := map[string]uint64{}
	for ds, d := range rep.Datasets {
		if dataset != "" && ds != dataset {
			continue
		}
		for _, fld := range d.Fields {
			rows = append(rows, row{ds, fld})
		}
		if d.Overflow > 0 {
			overflow[ds] = d.Overflow
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Dataset != rows[j].Dataset {
			return rows[i].Dataset < rows[j].Dataset
		}
		return rows[i].Name < rows[j].Name
	})
	if f.jsonOut {
		if rows == nil {
			rows = []row{}
		}
		return writeJSON(s, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(s.out, "no unknown fields (as of %s)\n", rep.Updated.Format(time.RFC3339))
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tFIELD\tSTORED AS\tCOUNT\tFIRST SEEN\tLAST SEEN")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Dataset, r.Name, r.Path, r.Count,
			r.FirstSeen.Format(time.RFC3339), r.LastSeen.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, ds := range sortedNames(overflow) {
		fmt.Fprintf(s.out, "%s: %d more sightings of names beyond the first %d\n", ds, overflow[ds], normalize.UnknownFieldLimit)
	}
	fmt.Fprintf(s.out, "(as of %s)\n", rep.Updated.Format(time.RFC3339))
	return nil
}

func sortedNames(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeJSON(s streams, v any) error {
	enc := json.NewEncoder(s.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
