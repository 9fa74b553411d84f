// Command flarehose collects Cloudflare logs, normalizes them to ECS and
// delivers them to an embedded DuckDB store or Elasticsearch/OpenSearch.
package main

import (
	"os"

	"github.com/flarehose/flarehose/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
