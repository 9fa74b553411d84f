package cfapi

import (
	"fmt"
	"log/slog"

	"github.com/flarehose/flarehose/internal/telemetry"
)

// Setup is what every API poller starts from: its logger and metrics
// (defaults when none are given), its API client and its checkpoint file.
type Setup struct {
	Log        *slog.Logger
	Metrics    *telemetry.Metrics
	Client     *Client
	Checkpoint string // the checkpoint file's path
}

// NewSetup builds the Setup of the `kind` source `name` (its config
// already validated). It needs a data directory for the checkpoint, and
// warns when the API credential would travel over plain http.
func NewSetup(kind, name string, api APIConfig, dataDir string, log *slog.Logger, m *telemetry.Metrics, clock Clock) (Setup, error) {
	if dataDir == "" {
		return Setup{}, fmt.Errorf("%s source %q: needs a data directory for its checkpoint", kind, name)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = telemetry.NewMetrics()
	}
	client, err := NewClient(api, Options{Clock: clock, Source: name, Metrics: m})
	if err != nil {
		return Setup{}, fmt.Errorf("%s source %q: %w", kind, name, err)
	}
	if api.InsecureBaseURL() {
		log.Warn("base_url is plain http to another host: the API credential travels unencrypted", "base_url", api.BaseURL)
	}
	return Setup{Log: log, Metrics: m, Client: client, Checkpoint: CheckpointPath(dataDir, name)}, nil
}
