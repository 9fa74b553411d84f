// Package cli implements the flarehose command line: one cobra command per
// file. Commands parse flags, build components through internal/registry and
// run them; they hold no pipeline logic of their own.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses shared by all commands.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran but something failed (bad records, errors)
	exitUsage = 2 // bad flags or arguments
)

// usageError marks errors that should exit with status 2.
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError carries a specific exit status after the command printed its own report.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// streams are the command's standard input and outputs (tests pass buffers).
type streams struct {
	in       io.Reader
	out, err io.Writer
}

func newRoot(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "flarehose",
		Short: "Collect Cloudflare logs, normalize them to ECS, store and search them",
		Long: `flarehose collects every Cloudflare log (Logpush, object storage, API), normalizes it
to ECS exactly like Elastic's cloudflare_logpush integration, and delivers it with nothing
lost into an embedded DuckDB store or Elasticsearch/OpenSearch.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newVersionCmd(s),
		newNormalizeCmd(s),
		newServeCmd(s),
		newValidateCmd(s),
		newSearchCmd(s),
		newFieldsCmd(s),
		newDemoCmd(s),
		newBenchCmd(s),
		newDeadletterCmd(s),
		newSimCmd(s),
		newLogpushCmd(s),
	)
	return root
}

// Main runs the command line and returns the process exit status.
func Main(args []string, in io.Reader, out, errw io.Writer) int {
	root := newRoot(streams{in, out, errw})
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(errw, "flarehose:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitFail
}

// isCobraUsage recognises cobra's own argument errors (unknown command, bad arg count).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
