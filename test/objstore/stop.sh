#!/usr/bin/env bash
# Stops the servers test/objstore/start.sh started (each script ignores
# one that is not running).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
for server in minio fakegcs azurite; do
	"$here/$server.sh" stop || rc=1
done
exit $rc
