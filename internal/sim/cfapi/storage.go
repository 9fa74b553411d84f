package cfapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flarehose/flarehose/internal/objstore"
)

// Endpoints is a Storage that reaches real object stores, or emulators
// standing in for them, the way Cloudflare reaches a customer's bucket
// (PROTOCOL.md §3.1):
//
//   - s3:// without keys: Cloudflare writes with its own IAM user. Here:
//     S3Endpoint with S3AccessKey/S3SecretKey (MinIO stands in for AWS).
//   - s3:// with access-key-id and secret-access-key (S3-compatible): the
//     conf's endpoint with the conf's keys; without an endpoint in the
//     conf, S3Endpoint (AWS's stand-in) with the conf's keys.
//   - r2:// (keys in the conf): R2Endpoint stands in for
//     https://<account-id>.r2.cloudflarestorage.com.
//   - gs://: Cloudflare writes with its service account. Here:
//     GCSEndpoint (fake-gcs-server), unauthenticated.
//   - azure://: the conf's own SAS, against AzureEndpoint (Azurite:
//     http://127.0.0.1:10000/devstoreaccount1), or the account the conf
//     names (azure://<account>.blob.core.windows.net/...). A SAS without
//     write permission fails as it would at Cloudflare.
//
// A scheme whose endpoint is not configured is refused with an error
// naming the setting; nothing goes to a public cloud unless a
// destination_conf names the endpoint itself.
type Endpoints struct {
	S3Endpoint  string // e.g. http://127.0.0.1:9000
	S3AccessKey string
	S3SecretKey string
	// S3Region signs requests to S3Endpoint (default: the conf's region,
	// else us-east-1).
	S3Region string
	// R2Endpoint receives r2:// destinations, e.g. http://127.0.0.1:9000.
	R2Endpoint string
	// GCSEndpoint receives gs:// destinations, e.g. http://127.0.0.1:4443.
	GCSEndpoint string
	// AzureEndpoint is the blob service URL, account included, that
	// receives azure:// destinations.
	AzureEndpoint string
	// HTTPEndpoints reads an S3-compatible conf's endpoint=host[:port]
	// (no scheme) as http:// rather than https://: for a local MinIO.
	HTTPEndpoints bool
}

// Check reports settings that cannot work: a malformed endpoint, a key
// without its secret. Secrets are not quoted.
func (e Endpoints) Check() error {
	for _, ep := range []struct{ name, url string }{
		{"S3 endpoint", e.S3Endpoint}, {"R2 endpoint", e.R2Endpoint},
		{"GCS endpoint", e.GCSEndpoint}, {"Azure endpoint", e.AzureEndpoint},
	} {
		if ep.url == "" {
			continue
		}
		if _, err := objstore.EndpointURL(ep.url); err != nil {
			return fmt.Errorf("%s: %w", ep.name, err)
		}
	}
	if (e.S3AccessKey == "") != (e.S3SecretKey == "") {
		return errors.New("S3 endpoint: give both access key and secret key, or neither")
	}
	if e.S3AccessKey != "" && e.S3Endpoint == "" {
		return errors.New("S3 access key given without an S3 endpoint")
	}
	return nil
}

// Bucket implements Storage.
func (e Endpoints) Bucket(ctx context.Context, dest *ObjectDestination) (objstore.Bucket, error) {
	cfg, err := e.config(dest)
	if err != nil {
		return nil, err
	}
	return objstore.Open(ctx, cfg)
}

// config turns a destination into the objstore configuration the
// simulator writes with.
func (e Endpoints) config(dest *ObjectDestination) (objstore.Config, error) {
	cfg, err := objstore.FromDestination(dest.Conf)
	if err != nil {
		return cfg, err
	}
	notConfigured := func(what, flag string) error {
		return fmt.Errorf("%s://%s: the simulator has no %s (%s)", dest.Scheme, cfg.Bucket, what, flag)
	}
	switch dest.Scheme {
	case "s3":
		switch {
		case cfg.AccessKeyID == "": // AWS S3 written with Cloudflare's IAM user
			if e.S3Endpoint == "" {
				return cfg, notConfigured("S3 endpoint standing in for AWS", "--s3-endpoint")
			}
			cfg.Endpoint, cfg.AccessKeyID, cfg.SecretAccessKey = e.S3Endpoint, e.S3AccessKey, e.S3SecretKey
			cfg.Region = firstNonEmpty(e.S3Region, cfg.Region)
		case cfg.Endpoint == "": // AWS S3 with the customer's keys
			if e.S3Endpoint == "" {
				return cfg, notConfigured("S3 endpoint standing in for AWS", "--s3-endpoint")
			}
			cfg.Endpoint = e.S3Endpoint
			cfg.Region = firstNonEmpty(e.S3Region, cfg.Region)
		default: // S3-compatible: the conf says where
			if e.HTTPEndpoints && !strings.Contains(cfg.Endpoint, "://") {
				cfg.Endpoint = "http://" + cfg.Endpoint
			}
		}
		cfg.Region = firstNonEmpty(cfg.Region, "us-east-1")
	case "r2":
		if e.R2Endpoint == "" {
			return cfg, notConfigured("R2 endpoint", "--r2-endpoint")
		}
		cfg.Endpoint = e.R2Endpoint
	case "gs":
		if e.GCSEndpoint == "" {
			return cfg, notConfigured("GCS endpoint", "--gcs-endpoint")
		}
		cfg.Endpoint = e.GCSEndpoint
	case "azure":
		switch {
		case e.AzureEndpoint != "":
			cfg.Endpoint = e.AzureEndpoint
		case cfg.Endpoint == "":
			return cfg, notConfigured("Azure endpoint, and the conf names no account", "--azure-endpoint")
		}
		if cfg.SASToken == "" {
			return cfg, fmt.Errorf("azure://%s: the destination_conf carries no SAS token", cfg.Bucket)
		}
	default:
		return cfg, fmt.Errorf("%s:// destinations are not object stores the simulator writes to", dest.Scheme)
	}
	return cfg, cfg.Validate()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
