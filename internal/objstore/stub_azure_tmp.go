package objstore

import (
	"context"
	"errors"
)

// Placeholder until azure.go lands: delete this file then.
func newAzure(context.Context, Config) (Bucket, error) {
	return nil, errors.New("azure: not built yet")
}
