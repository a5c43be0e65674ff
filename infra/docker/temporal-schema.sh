#!/bin/sh
# One-shot job: Temporal's persistence and visibility databases on Postgres, created and brought to the schema of
# the server's version by Temporal's own tool (temporal-sql-tool, from temporalio/admin-tools at the server's version;
# the schemas are built into it). Safe to run on every deploy: an existing database is kept and only upgraded.
# docker-compose runs it in the admin-tools image; `npm run topology` runs it with the tool built from the same Go
# module (TEMPORAL_SQL_TOOL).
#   POSTGRES_SEEDS=postgres DB_PORT=5432 POSTGRES_USER=leadrelay SQL_PASSWORD=… sh infra/docker/temporal-schema.sh
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the Postgres host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (the password of POSTGRES_USER)}"
TOOL="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"

sql() {
  database="$1"
  shift
  "$TOOL" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$database" "$@"
}

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  database="${pair%%:*}"
  schema="postgresql/v12/${pair#*:}"
  # --quiet: a database that exists already is not an error (the next steps fail loudly if it is unreachable).
  sql "$database" --quiet create-database
  # Version tables at 0.0 on a new database; a database at a later version is left as it is.
  sql "$database" setup-schema -v 0.0
  # Every versioned step up to the tool's (and so the server's) schema version.
  sql "$database" update-schema --schema-name "$schema"
  echo "temporal schema: $database at the schema of $schema"
done
