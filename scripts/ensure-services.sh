#!/usr/bin/env bash
# Make sure Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, database `test`) answer,
# installing (Debian) and starting them where they do not. Used by `make test` and CI.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
  [ "$(id -u)" = 0 ] || { echo "ensure-services: need root to install $*" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

redis_up() { have redis-cli && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_up; then
  have redis-server || apt_install redis-server redis-tools
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis_up && break; sleep 0.2; done
fi
redis_up || { echo "ensure-services: Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }

pg_up() { have pg_isready && pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
  have pg_ctlcluster || apt_install postgresql
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  for _ in $(seq 50); do pg_up && break; sleep 0.2; done
fi
pg_up || { echo "ensure-services: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null
fi
# docker-compose.yml is checked by the tests with `docker-compose config` (no daemon needed)
if ! have docker-compose && ! (have docker && docker compose version >/dev/null 2>&1); then
  apt_install docker-compose
fi
echo "ensure-services: Redis and PostgreSQL answer; docker-compose is installed"
