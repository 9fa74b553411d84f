package esquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/valyala/fastjson"

	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sink/elasticsearch"
)

// ErrUnauthorized is returned by Ping when the cluster refuses the
// credentials (HTTP 401).
var ErrUnauthorized = errors.New("the cluster refused the credentials")

// Ping checks, before a search, that the cluster answers GET / and accepts
// the client's credentials, so the caller can tell "cannot connect" and
// "wrong credentials" apart from a failing query:
//
//   - nobody answers at any URL: an error matching elasticsearch.ErrUnavailable;
//   - HTTP 401: ErrUnauthorized. The message holds the status and the
//     error type only, never the cluster's reason text, so nothing the
//     cluster echoes of the request can end up in it;
//   - the answer is not an Elasticsearch/OpenSearch one (not JSON, no
//     version) or an unsupported version: that error.
//
// Any other status (403 for a user without the cluster monitor privilege, a
// proxy's 404) is not an error here: searching may still be allowed, and
// the search itself reports what fails.
func (e *Engine) Ping(ctx context.Context) error {
	_, err := e.c.Info(ctx)
	var he *elasticsearch.HTTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he) && he.Status == http.StatusUnauthorized:
		if he.Type != "" {
			return fmt.Errorf("%w (HTTP 401, %s)", ErrUnauthorized, he.Type)
		}
		return fmt.Errorf("%w (HTTP 401)", ErrUnauthorized)
	case errors.As(err, &he):
		return nil
	default:
		return err
	}
}

// DataStreams lists, sorted, the data streams that Search reads (every
// dataset's logs-<elastic dataset>-<namespace>) that exist in the cluster:
// none means nothing was written to this namespace yet.
func (e *Engine) DataStreams(ctx context.Context) ([]string, error) {
	indices, err := e.indices(search.Request{})
	if err != nil || indices == "" {
		return nil, err
	}
	resp, err := e.c.JSON(ctx, http.MethodGet, "/_data_stream/"+url.PathEscape(indices), nil)
	var he *elasticsearch.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQueryFailed, err)
	}
	v, err := fastjson.ParseBytes(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: _data_stream: %v", ErrQueryFailed, err)
	}
	var out []string
	for _, ds := range v.GetArray("data_streams") {
		if n := ds.GetStringBytes("name"); len(n) > 0 {
			out = append(out, string(n))
		}
	}
	sort.Strings(out)
	return out, nil
}
