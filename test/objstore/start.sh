#!/usr/bin/env bash
# Installs (once, cached under .tools/) and starts the real object stores
# flarehose's object storage tests use, all on 127.0.0.1:
#   MinIO (S3 and R2), fake-gcs-server (GCS), Azurite (Azure Blob).
# Prints the FLAREHOSE_TEST_* variables the tests read, one KEY=VALUE a
# line, on stdout (progress goes to stderr):
#
#   set -a; eval "$(test/objstore/start.sh)"; set +a
#
# test/objstore/stop.sh stops them all. A server already running is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for server in minio fakegcs azurite; do
	"$here/$server.sh" start || {
		echo "objstore: $server did not start" >&2
		exit 1
	}
done
