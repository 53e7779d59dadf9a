#!/usr/bin/env bash
# scripts/db-setup.sh — make sure Parley has a PostgreSQL database with pgvector.
#
# Called by the Makefile (`make demo`, `make test`). Safe to run again and
# again: when everything is already in place it only checks, in a second or so,
# and never calls apt.
#
#   * If PARLEY_DATABASE_URL is set and reachable, that database is used: the
#     script only makes sure the `vector` extension exists in it (and in
#     PARLEY_TEST_DATABASE_URL when that is set too).
#   * Otherwise it uses the local Debian PostgreSQL cluster (installing
#     PostgreSQL, creating or starting the cluster, and installing pgvector as
#     needed), with a role `parley` (password `parley`) and the databases
#     `parley` and `parley_test`.
#
# Progress and errors go to stderr, prefixed "db-setup:". The last two lines on
# stdout are the URLs to use:
#   PARLEY_DATABASE_URL=...
#   PARLEY_TEST_DATABASE_URL=...
# and the same two lines are written to .parley-db.env in the repository root,
# which the Makefile reads with bash `source` (a value is single-quoted there
# when it holds shell metacharacters such as & in a user's URL).
#
# Needs root (or sudo) only when something has to be installed, started or
# created. On Debian 12 pgvector has no binary package: it is built from
# Debian's own source package (from trixie, source only; no trixie binaries are
# ever added to apt's sources).

set -Eeuo pipefail

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

log() { printf 'db-setup: %s\n' "$*" >&2; }
die() { printf 'db-setup: %s\n' "$*" >&2; exit 1; }
trap 'die "unexpected failure at line $LINENO (command: $BASH_COMMAND)."' ERR

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="$REPO_ROOT/.parley-db.env"

APP_ROLE=parley
APP_PASSWORD=parley
APP_DB=parley
TEST_DB=parley_test

export DEBIAN_FRONTEND=noninteractive
export PGCONNECT_TIMEOUT=5

# One temporary directory for logs and the pgvector build, removed on exit.
WORK_DIR=""
cleanup() {
  [ -n "$WORK_DIR" ] || return 0
  # Some files in it may belong to root (apt ran through sudo).
  rm -rf -- "$WORK_DIR" 2>/dev/null || { is_root || sudo rm -rf -- "$WORK_DIR"; } || true
}
trap cleanup EXIT
# ensure_work_dir: create WORK_DIR (call it directly, not inside $(...)).
ensure_work_dir() {
  [ -n "$WORK_DIR" ] && return 0
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/parley-db-setup.XXXXXX")"
  chmod 0755 "$WORK_DIR"
}

have() { command -v "$1" >/dev/null 2>&1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# can_be_root: true when we are root or may use sudo.
can_be_root() { is_root || have sudo; }

# as_root CMD...: run a command as root (directly, or through sudo).
as_root() {
  if is_root; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    die "this step needs root and sudo is not available: run as root, or set PARLEY_DATABASE_URL to a PostgreSQL database that has pgvector."
  fi
}

# as_postgres CMD...: run a command as the postgres OS user (the cluster
# superuser, which can always connect through the local unix socket).
as_postgres() {
  if [ "$(id -un)" != postgres ] && ! can_be_root; then
    die "connecting as the postgres superuser needs root or sudo: run as root, or set PARLEY_DATABASE_URL to a PostgreSQL database that has pgvector."
  fi
  (
    cd /   # postgres may not be allowed to read the current directory
    if [ "$(id -un)" = postgres ]; then
      "$@"
    elif is_root; then
      runuser -u postgres -- "$@"   # util-linux, always present on Debian
    else
      sudo -u postgres -- "$@"
    fi
  )
}

# run_logged LOGFILE CMD...: run a noisy command, keep its output in LOGFILE and
# show the end of it only when it fails.
run_logged() {
  local logfile="$1"; shift
  if ! "$@" >"$logfile" 2>&1; then
    tail -n 25 "$logfile" >&2 || true
    return 1
  fi
}

# ---------------------------------------------------------------------------
# apt
# ---------------------------------------------------------------------------

APT_UPDATED=0
APT_LOG=""

need_apt() {
  # $1: what we want to install, for the error message.
  have apt-get || die "$1 is needed but apt-get is not available: install PostgreSQL with pgvector yourself and set PARLEY_DATABASE_URL to it."
  can_be_root || die "$1 must be installed, which needs root: run this script as root (or with sudo), or set PARLEY_DATABASE_URL to a PostgreSQL database that has pgvector."
  ensure_work_dir
  APT_LOG="$WORK_DIR/apt.log"
}

apt_update_once() {
  [ "$APT_UPDATED" -eq 1 ] && return 0
  log "apt-get update ..."
  run_logged "$APT_LOG" as_root apt-get update \
    || die "apt-get update failed (output above): check the machine's Debian package sources."
  APT_UPDATED=1
}

# apt_install PKG...: install packages that are not installed yet.
apt_install() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  need_apt "${missing[*]}"
  apt_update_once
  log "installing ${missing[*]} with apt ..."
  run_logged "$APT_LOG" as_root apt-get install -y --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed (output above)."
}

# apt_has_candidate PKG: true when apt can install PKG from the configured sources.
apt_has_candidate() {
  local cand
  cand="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# ---------------------------------------------------------------------------
# pgvector installation for a local server of major version $1
# ---------------------------------------------------------------------------

install_pgvector() {
  local ver="$1" pkg="postgresql-$1-pgvector"
  need_apt "pgvector ($pkg)"
  apt_update_once
  if apt_has_candidate "$pkg"; then
    log "installing $pkg with apt ..."
    run_logged "$APT_LOG" as_root apt-get install -y --no-install-recommends "$pkg" \
      || die "apt-get install $pkg failed (output above)."
    return 0
  fi
  build_pgvector_from_debian_source "$ver"
}

# Debian 12 has no pgvector binary package. Build Debian's own pgvector source
# package (taken from trixie through a private, source-only apt configuration)
# against the installed server.
build_pgvector_from_debian_source() {
  local ver="$1"
  local pg_config="/usr/lib/postgresql/$ver/bin/pg_config"
  local work src_list lists src build tarball pgv_version
  local apt_opts

  log "no pgvector package for PostgreSQL $ver in apt's sources: building it from Debian's source package"
  apt_install "postgresql-server-dev-$ver" build-essential
  [ -x "$pg_config" ] || die "$pg_config is missing even after installing postgresql-server-dev-$ver."

  ensure_work_dir
  work="$WORK_DIR/pgvector"
  mkdir -p "$work"
  src_list="$work/sources.list"
  lists="$work/lists"
  src="$work/src"
  build="$work/build"
  mkdir -p "$lists/partial" "$src" "$build"
  # apt downloads as the unprivileged _apt user when it can: let it write here.
  if getent passwd _apt >/dev/null && is_root; then chown -R _apt "$lists" "$src"; fi

  # Source-only, private apt configuration: the machine's own sources, lists
  # and package caches are neither read nor changed.
  echo 'deb-src http://deb.debian.org/debian trixie main' >"$src_list"
  apt_opts=(
    -o "Dir::Etc::SourceList=$src_list"
    -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::State::Lists=$lists"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
  )

  log "downloading Debian's pgvector source package (trixie, source only) ..."
  run_logged "$APT_LOG" as_root apt-get "${apt_opts[@]}" update \
    || die "could not read the Debian trixie source index (output above): check access to deb.debian.org."
  (cd "$src" && run_logged "$APT_LOG" as_root apt-get "${apt_opts[@]}" source --download-only pgvector) \
    || die "could not download Debian's pgvector source package (output above)."

  tarball="$(find "$src" -maxdepth 1 -name 'pgvector_*.orig.tar.*' | head -n 1)"
  [ -n "$tarball" ] || die "Debian's pgvector source package has no orig tarball in $src."
  pgv_version="$(basename "$tarball")"
  pgv_version="${pgv_version#pgvector_}"
  pgv_version="${pgv_version%%.orig.tar.*}"

  log "building pgvector $pgv_version from Debian source for PostgreSQL $ver ..."
  tar -xf "$tarball" -C "$build" --strip-components=1
  # OPTFLAGS= builds portable code (no -march=native), as Debian's package does.
  run_logged "$work/make.log" make -C "$build" -j "$(nproc)" OPTFLAGS= PG_CONFIG="$pg_config" \
    || die "building pgvector $pgv_version failed (output above)."
  run_logged "$work/make.log" as_root make -C "$build" install OPTFLAGS= PG_CONFIG="$pg_config" \
    || die "installing pgvector $pgv_version failed (output above)."
  log "pgvector $pgv_version installed into PostgreSQL $ver"
}

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

# env_value VALUE: VALUE as is when it is safe in a shell assignment, else in
# single quotes (a user's URL may hold & or ;). The Makefile sources the file
# with bash; our own local URLs never need quotes.
env_value() {
  if [[ "$1" =~ ^[A-Za-z0-9_@%+=:,./?-]*$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

emit_urls() {
  local url="$1" test_url="$2"
  local tmp
  tmp="$(mktemp "$REPO_ROOT/.parley-db.env.XXXXXX")"
  printf 'PARLEY_DATABASE_URL=%s\nPARLEY_TEST_DATABASE_URL=%s\n' "$(env_value "$url")" "$(env_value "$test_url")" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
  log "ready; URLs written to ${ENV_FILE#"$REPO_ROOT"/}"
  printf 'PARLEY_DATABASE_URL=%s\n' "$url"
  printf 'PARLEY_TEST_DATABASE_URL=%s\n' "$test_url"
}

# ---------------------------------------------------------------------------
# psql on the client side
# ---------------------------------------------------------------------------

ensure_psql() {
  have psql && return 0
  apt_install postgresql-client
  have psql || die "psql is still missing after installing postgresql-client."
}

# url_sql URL SQL [psql args...]: run one statement through a URL, print the
# unaligned result.
url_sql() {
  local url="$1" sql="$2"; shift 2
  psql "$url" -X -q -A -t -v ON_ERROR_STOP=1 "$@" -c "$sql"
}

# ---------------------------------------------------------------------------
# Local Debian cluster
# ---------------------------------------------------------------------------

PG_VER=""
PG_CLUSTER=""
PG_PORT=""

# Highest major version with an installed server binary.
installed_server_version() {
  local d v best=""
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$d" ] || continue
    v="${d#/usr/lib/postgresql/}"; v="${v%%/*}"
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n 1)" = "$v" ]; then best="$v"; fi
  done
  printf '%s\n' "$best"
}

server_installed() { have pg_lsclusters && have pg_ctlcluster && [ -n "$(installed_server_version)" ]; }

# pick_cluster: set PG_VER/PG_CLUSTER/PG_PORT to the cluster to use (highest
# version that has a server binary; the cluster named "main" when there are
# several). Returns 1 when there is none.
pick_cluster() {
  local line
  # Columns: Ver Cluster Port Status Owner Datadir Logfile
  line="$(pg_lsclusters -h 2>/dev/null \
    | while read -r ver name port _; do
        [ -x "/usr/lib/postgresql/$ver/bin/postgres" ] || continue
        if [ "$name" = main ]; then pref=0; else pref=1; fi
        printf '%s %s %s %s\n' "$ver" "$pref" "$name" "$port"
      done \
    | sort -k1,1Vr -k2,2n | head -n 1)"
  [ -n "$line" ] || return 1
  read -r PG_VER _ PG_CLUSTER PG_PORT <<<"$line"
}

cluster_status() {
  pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VER" -v c="$PG_CLUSTER" '$1 == v && $2 == c {print $4}'
}

# cluster_ctl start|restart: through systemd when it runs, else directly
# (containers and machines without systemd).
cluster_ctl() {
  if [ -d /run/systemd/system ] && have systemctl; then
    as_root systemctl "$1" "postgresql@$PG_VER-$PG_CLUSTER" \
      || die "could not $1 PostgreSQL $PG_VER/$PG_CLUSTER (see: journalctl -u postgresql@$PG_VER-$PG_CLUSTER)."
  else
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VER" "$PG_CLUSTER" "$1" \
      || die "could not $1 PostgreSQL $PG_VER/$PG_CLUSTER (see /var/log/postgresql/postgresql-$PG_VER-$PG_CLUSTER.log)."
  fi
}

start_cluster() {
  log "starting PostgreSQL cluster $PG_VER/$PG_CLUSTER ..."
  cluster_ctl start
}

wait_ready() {
  local _
  for _ in $(seq 1 30); do
    if pg_isready -q -p "$PG_PORT" 2>/dev/null; then return 0; fi
    sleep 1
  done
  die "PostgreSQL $PG_VER/$PG_CLUSTER on port $PG_PORT did not become ready within 30 s."
}

# su_sql DB [psql args...]: psql as the postgres superuser over the unix socket.
su_sql() {
  local db="$1"; shift
  as_postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$PG_PORT" -d "$db" "$@"
}

local_url() { printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable' "$APP_ROLE" "$APP_PASSWORD" "$PG_PORT" "$1"; }

# app_ready: true when the parley role can already log in over TCP to both
# databases, the vector extension exists in both, and it may create schemas in
# both. This is the fast path of a second run: no superuser needed.
app_ready() {
  local db ok
  for db in "$APP_DB" "$TEST_DB"; do
    ok="$(url_sql "$(local_url "$db")" \
      "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'vector') = 1
              AND has_database_privilege(current_database(), 'CREATE')
              AND has_schema_privilege('public', 'USAGE')" 2>/dev/null)" || return 1
    [ "$ok" = t ] || return 1
  done
}

app_can_login() { url_sql "$(local_url "$APP_DB")" 'SELECT 1' >/dev/null 2>&1; }

setup_role_and_databases() {
  local db
  log "creating role $APP_ROLE and databases $APP_DB, $TEST_DB if missing ..."
  su_sql postgres <<SQL
SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$APP_ROLE', '$APP_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE')
\gexec
SELECT format('ALTER ROLE %I LOGIN', '$APP_ROLE')
 WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE' AND NOT rolcanlogin)
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$APP_DB', '$APP_ROLE')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$APP_DB')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$TEST_DB', '$APP_ROLE')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$TEST_DB')
\gexec
GRANT CONNECT, CREATE, TEMPORARY ON DATABASE $APP_DB, $TEST_DB TO $APP_ROLE;
SQL
  # The extension is created by the superuser (the app role is not one) and
  # lives in schema public, which must stay on the app's search_path. The app
  # role may create its own schemas (one per test package in parley_test).
  for db in "$APP_DB" "$TEST_DB"; do
    su_sql "$db" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
GRANT USAGE, CREATE ON SCHEMA public TO $APP_ROLE;
SQL
  done
}

# Make sure the parley role can log in over TCP on 127.0.0.1 with its password.
ensure_tcp_login() {
  local hba listen marker='# parley: added by scripts/db-setup.sh'
  app_can_login && return 0

  # TCP must be enabled at all.
  listen="$(su_sql postgres -c 'SHOW listen_addresses')"
  if [ -z "$listen" ]; then
    log "PostgreSQL does not listen on TCP: setting listen_addresses = 'localhost' and restarting ..."
    su_sql postgres -c "ALTER SYSTEM SET listen_addresses = 'localhost'"
    cluster_ctl restart
    wait_ready
    app_can_login && return 0
  fi

  # The role may pre-date this script with another or no password.
  log "setting the password of role $APP_ROLE ..."
  su_sql postgres <<SQL
SET client_min_messages = warning;
SET password_encryption = 'scram-sha-256';
ALTER ROLE $APP_ROLE WITH LOGIN PASSWORD '$APP_PASSWORD';
SQL
  app_can_login && return 0

  # Allow password login for the parley role from loopback, ahead of any other
  # rule (pg_hba.conf is read top-down, first match wins).
  hba="$(su_sql postgres -c 'SHOW hba_file')"
  if ! as_root grep -qF "$marker" "$hba"; then
    log "adding password login for role $APP_ROLE on 127.0.0.1 and ::1 at the top of $hba ..."
    # shellcheck disable=SC2016  # the inner script expands its own arguments
    as_root sh -c '
      hba="$1"; marker="$2"; role="$3"
      tmp="$(mktemp)"
      {
        printf "%s\n" "$marker"
        printf "host    all    %s    127.0.0.1/32    scram-sha-256\n" "$role"
        printf "host    all    %s    ::1/128         scram-sha-256\n" "$role"
        cat "$hba"
      } >"$tmp"
      cat "$tmp" >"$hba"   # keeps the file owner and mode
      rm -f "$tmp"
    ' sh "$hba" "$marker" "$APP_ROLE"
  fi
  su_sql postgres -c 'SELECT pg_reload_conf()' >/dev/null
  sleep 0.5
  local err
  err="$(url_sql "$(local_url "$APP_DB")" 'SELECT 1' 2>&1 >/dev/null)" \
    || die "role $APP_ROLE still cannot log in on 127.0.0.1:$PG_PORT ($(printf '%s' "$err" | head -n 1)); check $hba."
}

setup_local() {
  # Connection settings from the environment must not redirect our psql calls.
  unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS PGSSLMODE

  # 1. PostgreSQL server.
  if ! server_installed; then
    log "PostgreSQL server is not installed: installing it with apt ..."
    apt_install postgresql postgresql-contrib
    server_installed || die "PostgreSQL is still not usable after installing it (no pg_lsclusters or server binary)."
  fi
  ensure_psql

  # 2. A cluster, running.
  if ! pick_cluster; then
    local ver
    ver="$(installed_server_version)"
    log "no PostgreSQL cluster: creating $ver/main ..."
    as_root pg_createcluster "$ver" main >/dev/null \
      || die "pg_createcluster $ver main failed."
    pick_cluster || die "pg_createcluster $ver main did not create a usable cluster."
  fi
  case "$(cluster_status)" in
    online*) ;;
    *) start_cluster ;;
  esac
  wait_ready
  log "using PostgreSQL $PG_VER/$PG_CLUSTER on port $PG_PORT"

  # 3. Fast path: everything already in place.
  if app_ready; then
    emit_urls "$(local_url "$APP_DB")" "$(local_url "$TEST_DB")"
    return 0
  fi

  # 4. pgvector.
  if [ "$(su_sql postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")" != 1 ]; then
    install_pgvector "$PG_VER"
    [ "$(su_sql postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")" = 1 ] \
      || die "pgvector was installed but PostgreSQL $PG_VER does not list the vector extension."
  fi

  # 5. Role, databases, extension, login.
  setup_role_and_databases
  ensure_tcp_login
  app_ready || die "the $APP_ROLE role still lacks the vector extension or CREATE rights in $APP_DB/$TEST_DB after setup."

  emit_urls "$(local_url "$APP_DB")" "$(local_url "$TEST_DB")"
}

# ---------------------------------------------------------------------------
# A database given by the user
# ---------------------------------------------------------------------------

# ensure_vector_in_url URL NAME: make sure the vector extension exists in the
# database of URL (NAME is the variable name, for messages).
ensure_vector_in_url() {
  local url="$1" name="$2" err info server_addr port db version available line local_server
  if url_sql "$url" 'CREATE EXTENSION IF NOT EXISTS vector' >/dev/null 2>&1; then
    return 0
  fi
  err="$(url_sql "$url" 'CREATE EXTENSION IF NOT EXISTS vector' 2>&1 >/dev/null || true)"
  err="$(printf '%s' "$err" | head -n 1)"

  # Where is this server? inet_server_addr() is NULL over a unix socket.
  info="$(url_sql "$url" "SELECT coalesce(host(inet_server_addr()), 'socket'), current_setting('port'), current_database(),
                                current_setting('server_version_num')::int / 10000,
                                (SELECT count(*) FROM pg_available_extensions WHERE name = 'vector')" -F ' ')"
  read -r server_addr port db version available <<<"$info"
  local_server=0
  case "$server_addr" in socket | 127.* | ::1) local_server=1 ;; esac

  # A local Debian cluster on that port: we can install pgvector and create the
  # extension as its superuser.
  line=""
  if [ "$local_server" -eq 1 ] && have pg_lsclusters; then
    line="$(pg_lsclusters -h 2>/dev/null | awk -v p="$port" -v v="$version" '$3 == p && $1 == v {print $1, $2, $3; exit}')"
  fi
  if [ -z "$line" ]; then
    if [ "$available" != 1 ]; then
      die "the PostgreSQL server of $name has no pgvector installed: install pgvector on that server, or unset $name to let this script set up a local PostgreSQL."
    fi
    die "the vector extension is missing in the database of $name and this role cannot create it ($err): have a superuser run CREATE EXTENSION vector in it."
  fi

  unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS PGSSLMODE
  read -r PG_VER PG_CLUSTER PG_PORT <<<"$line"
  if [ "$available" != 1 ]; then
    install_pgvector "$PG_VER"
  fi
  log "creating the vector extension in database $db as the postgres superuser ..."
  su_sql "$db" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public' >/dev/null \
    || die "could not create the vector extension in database $db of the local PostgreSQL $PG_VER/$PG_CLUSTER."
}

setup_from_url() {
  local url="$PARLEY_DATABASE_URL" test_url="${PARLEY_TEST_DATABASE_URL:-$PARLEY_DATABASE_URL}"
  ensure_vector_in_url "$url" PARLEY_DATABASE_URL
  if [ "$test_url" != "$url" ]; then
    url_sql "$test_url" 'SELECT 1' >/dev/null 2>&1 \
      || die "PARLEY_TEST_DATABASE_URL is set but cannot be reached: fix it or unset it (the tests then use PARLEY_DATABASE_URL)."
    ensure_vector_in_url "$test_url" PARLEY_TEST_DATABASE_URL
  fi
  # The tests create one schema per test package.
  if [ "$(url_sql "$test_url" "SELECT has_database_privilege(current_database(), 'CREATE')")" != t ]; then
    log "warning: the role of the test database URL may not create schemas there; the tests need to (GRANT CREATE ON DATABASE ... TO that role)."
  fi
  emit_urls "$url" "$test_url"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

main() {
  if [ -n "${PARLEY_DATABASE_URL:-}" ]; then
    ensure_psql
    local err
    if err="$(url_sql "$PARLEY_DATABASE_URL" 'SELECT 1' 2>&1 >/dev/null)"; then
      log "using PARLEY_DATABASE_URL"
      setup_from_url
      return 0
    fi
    log "PARLEY_DATABASE_URL is set but cannot be reached ($(printf '%s' "$err" | head -n 1)): setting up the local PostgreSQL instead"
    unset PARLEY_TEST_DATABASE_URL
  fi
  setup_local
}

main "$@"
