#!/usr/bin/env bash
# Shared steps of the demo, test and benchmark commands: install what a
# fresh Debian 12 machine lacks, build and install the extension, and run a
# throwaway PostgreSQL cluster as an unprivileged user on a unix socket.
#
# Source it; it defines functions and never starts anything by itself.

set -euo pipefail

AF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AF_PG_VERSION=${AF_PG_VERSION:-15}
AF_PG_BIN=${AF_PG_BIN:-/usr/lib/postgresql/$AF_PG_VERSION/bin}
AF_OS_USER=${AF_OS_USER:-afregning}
AF_PACKAGES="make gcc postgresql-$AF_PG_VERSION postgresql-server-dev-$AF_PG_VERSION
	postgresql-$AF_PG_VERSION-pgtap libtap-parser-sourcehandler-pgtap-perl
	postgresql-$AF_PG_VERSION-cron python3-psycopg2"

af_log() { printf '==> %s\n' "$*" >&2; }

# Install the Debian packages that are missing (root only).
af_install_packages() {
	local missing=()
	for p in $AF_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		af_log "missing packages: ${missing[*]} (run as root to install them)"
		return 1
	fi
	af_log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Debian's postgresql package would start a cluster of its own; we use ours.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Build with warnings as errors and install into the PostgreSQL tree.
af_build_install() {
	af_log "building and installing the extension"
	make -C "$AF_ROOT" -s PG_CONFIG="$AF_PG_BIN/pg_config" PG_WERROR=1 clean >/dev/null
	make -C "$AF_ROOT" -s PG_CONFIG="$AF_PG_BIN/pg_config" PG_WERROR=1 >/dev/null
	make -C "$AF_ROOT" -s PG_CONFIG="$AF_PG_BIN/pg_config" PG_WERROR=1 install >/dev/null
}

# Run a command as the cluster's OS user (PostgreSQL refuses root).
af_as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$AF_OS_USER" -- env PGHOST="$PGHOST" PGPORT="$PGPORT" \
			PGUSER="$PGUSER" PGDATABASE="${PGDATABASE:-postgres}" "$@"
	else
		"$@"
	fi
}

# Start a throwaway cluster in a fresh directory; exports PGHOST, PGPORT,
# PGUSER and AF_WORK (a scratch directory the cluster user owns). The
# cluster is stopped and removed on exit, also after a failure.
af_start_cluster() {
	if [ "$(id -u)" -eq 0 ]; then
		id "$AF_OS_USER" >/dev/null 2>&1 ||
			useradd --system --create-home --shell /bin/bash "$AF_OS_USER"
		AF_WORK=$(runuser -u "$AF_OS_USER" -- mktemp -d /tmp/afregning.XXXXXX)
	else
		AF_OS_USER=$(id -un)
		AF_WORK=$(mktemp -d /tmp/afregning.XXXXXX)
	fi
	export AF_WORK
	export PGHOST="$AF_WORK/socket" PGPORT=${AF_PORT:-54329} PGUSER="$AF_OS_USER"
	trap af_stop_cluster EXIT
	af_as_user mkdir -p "$PGHOST"
	af_log "starting a throwaway cluster in $AF_WORK"
	af_as_user "$AF_PG_BIN/initdb" -D "$AF_WORK/data" -U "$AF_OS_USER" \
		--auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
	af_as_user tee -a "$AF_WORK/data/postgresql.conf" >/dev/null <<-CONF
		listen_addresses = ''
		unix_socket_directories = '$PGHOST'
		port = $PGPORT
		shared_preload_libraries = 'pg_cron'
		cron.database_name = '${AF_CRON_DB:-postgres}'
		cron.use_background_workers = on
		max_worker_processes = 16
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		log_min_messages = warning
	CONF
	af_as_user "$AF_PG_BIN/pg_ctl" -D "$AF_WORK/data" -l "$AF_WORK/server.log" -w start >/dev/null
}

af_stop_cluster() {
	local rc=$?
	if [ -n "${AF_WORK:-}" ] && [ -d "$AF_WORK/data" ]; then
		af_as_user "$AF_PG_BIN/pg_ctl" -D "$AF_WORK/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$AF_WORK"
	fi
	return $rc
}

# psql as the cluster user, stopping at the first error.
af_psql() {
	af_as_user "$AF_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}
