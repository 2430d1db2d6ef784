#!/usr/bin/env bash
# A real tandem cluster on one machine, loopback only (docs/cluster.md):
#   scripts/cluster.sh build   build or adopt the Temporal server and versitygw (cached outside the clone, by version)
#   scripts/cluster.sh up      start PostgreSQL, the Temporal server (schema, namespace, search attributes), versitygw
#   scripts/cluster.sh env     print the export lines a tandem worker and the CLI need
#   scripts/cluster.sh status  say which of the three runs
#   scripts/cluster.sh down    stop what `up` started (the data folder stays; `down --wipe` removes it)
# Settings: TANDEM_CLUSTER_DIR (data and logs; default .tandem/cluster), TANDEM_CLUSTER_PORT_OFFSET (added to every
# stock port: PostgreSQL 5432, Temporal 7233 and its internal ports, S3 7070; default 20000).
# Downloads go through `go` as the machine configures it (GOPROXY, GOFLAGS): no address is written here.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${TANDEM_CLUSTER_DIR:-$ROOT/.tandem/cluster}"
OFFSET="${TANDEM_CLUSTER_PORT_OFFSET:-20000}"
TEMPORAL_VERSION=1.32.1 # v1.32.2 needs Go >= 1.26.10
VERSITYGW_VERSION=1.8.0
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tandem"
TEMPORAL_BIN="$CACHE/temporal-server/$TEMPORAL_VERSION/bin"
VERSITYGW_BIN="$CACHE/versitygw/$VERSITYGW_VERSION/bin"
PG_PORT=$((5432 + OFFSET))
FRONTEND_PORT=$((7233 + OFFSET))
S3_PORT=$((7070 + OFFSET))
BUCKET=tandem
# The server keeps each member's membership port (stock 6933-6939) in a PostgreSQL smallint: above 32767 it fails at
# start with "value ... is out of range for type smallint".
MAX_OFFSET=$((32767 - 6939))
NAMESPACE=default

# Debian's postgresql package keeps initdb and pg_ctl off PATH, under /usr/lib/postgresql/<major>/bin.
if ! command -v initdb >/dev/null; then
  for candidate in /usr/lib/postgresql/*/bin; do [[ -x "$candidate/initdb" ]] && PATH="$candidate:$PATH"; done
fi

log() { echo "cluster: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# Builds a Go tool into its versioned cache folder unless every binary is there already.
build_go() {
  local bin="$1" version="$2"
  shift 2
  local missing=0 name
  for package in "$@"; do
    name="$(basename "$package")"
    [[ -x "$bin/$name" ]] || missing=1
  done
  if ((missing == 0)); then
    log "adopting $bin ($*)"
    return
  fi
  command -v go >/dev/null || die "no go on PATH: install Go >= 1.26 to build $*"
  log "building $* @v$version into $bin (minutes; the Temporal server takes about 16 CPU-minutes)"
  mkdir -p "$bin"
  local started=$SECONDS
  GOBIN="$bin" go install "${@/%/@v$version}"
  log "built in $((SECONDS - started)) s"
}

build() {
  build_go "$TEMPORAL_BIN" "$TEMPORAL_VERSION" go.temporal.io/server/cmd/server go.temporal.io/server/cmd/tools/sql
  build_go "$VERSITYGW_BIN" "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
  [[ -f "$ROOT/dist/dev/cluster-setup.js" ]] || (cd "$ROOT" && npm run build >/dev/null)
}

# The module's own files (config template, SQL schema): from the Go module cache, downloaded by `go` when absent.
temporal_module() {
  go mod download -json "go.temporal.io/server@v$TEMPORAL_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# PostgreSQL refuses to run as root: as root, run it as the postgres user of Debian's package.
as_pg() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Whether the process of a pid file runs. A killed process whose parent is gone may stay a zombie where PID 1 does not
# reap (containers): it answers kill -0 but serves nothing, so its state is read too.
alive() {
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1")"
  [[ -r "/proc/$pid/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}

# Before starting a part: a port someone else holds would fail later with a less clear message.
need_free_port() {
  if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "127.0.0.1:$1 ($2) is taken by another process: stop it, or set TANDEM_CLUSTER_PORT_OFFSET (now $OFFSET)"
  fi
}

wait_port() {
  local port="$1" what="$2" logfile="$3"
  # 120 s: a Temporal server restarted on a busy two-core machine (the cluster tests do it) can take over a minute.
  for _ in $(seq 1 240); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
    sleep 0.5
  done
  tail -n 30 "$logfile" >&2 || true
  die "$what did not listen on 127.0.0.1:$port within 120 s (log: $logfile)"
}

credentials() {
  if [[ ! -f "$DIR/s3-credentials" ]]; then
    mkdir -p "$DIR"
    printf 'tandem-%s %s\n' "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" \
      "$(od -An -N16 -tx4 /dev/urandom | tr -d ' \n')" >"$DIR/s3-credentials"
    chmod 600 "$DIR/s3-credentials"
  fi
  read -r ACCESS_KEY SECRET_KEY <"$DIR/s3-credentials"
}

start_postgres() {
  command -v initdb >/dev/null || die "no initdb: install PostgreSQL (apt-get install postgresql)"
  local data="$DIR/postgres"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    mkdir -p "$data"
    ((EUID == 0)) && chown postgres: "$data" "$DIR"
    # Trust on loopback only: the server listens on 127.0.0.1 and nothing else.
    as_pg initdb -D "$data" -U temporal --auth=trust -E UTF8 >"$DIR/initdb.log"
  fi
  if as_pg pg_ctl -D "$data" status >/dev/null 2>&1; then return; fi
  need_free_port "$PG_PORT" PostgreSQL
  ((EUID == 0)) && touch "$DIR/postgres.log" && chown postgres: "$DIR/postgres.log"
  as_pg pg_ctl -D "$data" -l "$DIR/postgres.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$data" start >/dev/null
}

setup_schema() {
  local module="$1" sql="$TEMPORAL_BIN/sql"
  [[ -f "$DIR/schema-$TEMPORAL_VERSION" ]] && return
  local args=(--plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u temporal --pw temporal)
  for db in temporal temporal_visibility; do
    local schema="$module/schema/postgresql/v12/temporal/versioned"
    [[ "$db" == temporal_visibility ]] && schema="$module/schema/postgresql/v12/visibility/versioned"
    "$sql" "${args[@]}" --db "$db" create >/dev/null 2>&1 || true # exists on a second `up`
    "$sql" "${args[@]}" --db "$db" setup-schema -v 0.0 >>"$DIR/schema.log" 2>&1 || true
    "$sql" "${args[@]}" --db "$db" update-schema -d "$schema" >>"$DIR/schema.log" 2>&1 ||
      die "schema update of $db failed (log: $DIR/schema.log)"
  done
  touch "$DIR/schema-$TEMPORAL_VERSION"
}

# The shipped development-postgres12.yaml with every port shifted by OFFSET; archival stays as shipped, since setting
# it to "disabled" alone fails validation.
write_temporal_config() {
  local module="$1" config="$DIR/temporal.yaml"
  cp "$module/config/dynamicconfig/development-sql.yaml" "$DIR/dynamicconfig.yaml"
  local expression=""
  for port in 5432 7233 7234 7235 7239 7243 6933 6934 6935 6939 7936 8000; do
    expression+="s/\\b$port\\b/$((port + OFFSET))/g;"
  done
  sed -e "$expression" -e "s|filepath: .*|filepath: \"$DIR/dynamicconfig.yaml\"|" \
    "$module/config/development-postgres12.yaml" >"$config"
  chmod u+w "$config" "$DIR/dynamicconfig.yaml"
}

start_temporal() {
  local module
  module="$(temporal_module)"
  [[ -d "$module" ]] || die "go could not fetch go.temporal.io/server@v$TEMPORAL_VERSION into the module cache"
  setup_schema "$module"
  write_temporal_config "$module"
  if ! alive "$DIR/temporal.pid"; then
    need_free_port "$FRONTEND_PORT" "the Temporal server"
    nohup "$TEMPORAL_BIN/server" --config-file "$DIR/temporal.yaml" --allow-no-auth start >"$DIR/temporal.log" 2>&1 &
    echo $! >"$DIR/temporal.pid"
  fi
  wait_port "$FRONTEND_PORT" "the Temporal server" "$DIR/temporal.log"
  node "$ROOT/dist/dev/cluster-setup.js" "127.0.0.1:$FRONTEND_PORT" "$NAMESPACE"
}

start_versitygw() {
  credentials
  mkdir -p "$DIR/s3/data/$BUCKET" "$DIR/s3/meta"
  if ! alive "$DIR/versitygw.pid"; then
    need_free_port "$S3_PORT" versitygw
    # Bound to 127.0.0.1: versitygw listens on every interface unless told. A bucket is a folder of the posix backend.
    ROOT_ACCESS_KEY="$ACCESS_KEY" ROOT_SECRET_KEY="$SECRET_KEY" nohup "$VERSITYGW_BIN/versitygw" \
      --port "127.0.0.1:$S3_PORT" posix --sidecar "$DIR/s3/meta" "$DIR/s3/data" >"$DIR/versitygw.log" 2>&1 &
    echo $! >"$DIR/versitygw.pid"
  fi
  wait_port "$S3_PORT" versitygw "$DIR/versitygw.log"
}

up() {
  local started=$SECONDS
  build
  mkdir -p "$DIR"
  start_postgres
  start_temporal
  start_versitygw
  log "up in $((SECONDS - started)) s; Temporal 127.0.0.1:$FRONTEND_PORT, S3 http://127.0.0.1:$S3_PORT ($DIR)"
}

stop_pid() {
  local file="$1" name="$2"
  if alive "$file"; then
    local pid
    pid="$(cat "$file")"
    kill "$pid"
    for _ in $(seq 1 40); do alive "$file" || break; sleep 0.25; done
    alive "$file" && kill -9 "$pid"
    log "stopped $name"
  fi
  rm -f "$file"
}

down() {
  stop_pid "$DIR/temporal.pid" "the Temporal server"
  stop_pid "$DIR/versitygw.pid" versitygw
  if [[ -f "$DIR/postgres/PG_VERSION" ]] && as_pg pg_ctl -D "$DIR/postgres" status >/dev/null 2>&1; then
    as_pg pg_ctl -D "$DIR/postgres" -m fast -w stop >/dev/null && log "stopped PostgreSQL"
  fi
  if [[ "${1:-}" == --wipe ]]; then rm -rf "$DIR" && log "removed $DIR"; fi
}

env_lines() {
  credentials
  cat <<EOF
export TEMPORAL_ADDRESS=127.0.0.1:$FRONTEND_PORT
export TEMPORAL_NAMESPACE=$NAMESPACE
export TANDEM_STORE_URL=s3://$BUCKET/
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
EOF
}

status() {
  local code=0
  if [[ -f "$DIR/postgres/PG_VERSION" ]] && as_pg pg_ctl -D "$DIR/postgres" status >/dev/null 2>&1; then
    echo "postgresql: running on 127.0.0.1:$PG_PORT"
  else
    echo "postgresql: stopped" && code=3
  fi
  if alive "$DIR/temporal.pid"; then echo "temporal: running on 127.0.0.1:$FRONTEND_PORT"; else echo "temporal: stopped" && code=3; fi
  if alive "$DIR/versitygw.pid"; then echo "versitygw: running on 127.0.0.1:$S3_PORT"; else echo "versitygw: stopped" && code=3; fi
  return $code
}

[[ "$OFFSET" =~ ^[0-9]+$ ]] && ((OFFSET <= MAX_OFFSET)) ||
  die "TANDEM_CLUSTER_PORT_OFFSET=$OFFSET: use a whole number up to $MAX_OFFSET (the Temporal server stores its membership ports, 6933-6939 + offset, as a PostgreSQL smallint)"

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down "${2:-}" ;;
  env) env_lines ;;
  status) status ;;
  *) die "usage: scripts/cluster.sh build|up|down [--wipe]|env|status" ;;
esac
