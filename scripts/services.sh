#!/usr/bin/env bash
# Brings up what the integration tests use on this machine, installing Debian packages where missing:
# RabbitMQ (started when down, restarted once when its database is broken), Celery 5 in the system Python
# (wire-compatibility tests, the benchmark's smoke test), Redis (BullMQ in the benchmark's smoke test),
# PostgreSQL (started when installed but down).
set -uo pipefail

apt_install() {
  command -v apt-get >/dev/null || { echo "services: apt-get missing, cannot install $*" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

# ---- RabbitMQ ----
rabbit_healthy() { rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx '/'; }
rabbit_start() {
  rabbitmq-server -detached >/dev/null 2>&1
  rabbitmqctl -q await_startup --timeout 90 >/dev/null 2>&1
}
command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server || exit 1
if ! rabbit_healthy; then
  echo "services: starting RabbitMQ"
  rabbit_start
  if ! rabbit_healthy; then
    # Running but without its default vhost (e.g. its database died under too many connections): restart.
    rabbitmqctl -q stop >/dev/null 2>&1
    sleep 2
    rabbit_start
  fi
  rabbit_healthy || { echo "services: RabbitMQ is not healthy on 127.0.0.1:5672" >&2; exit 1; }
fi

# ---- Celery 5 (Debian's python3-celery), for the wire-compatibility tests ----
/usr/bin/python3 -c 'import celery' 2>/dev/null || apt_install python3-celery || exit 1
# ... and its Redis result backend (the redis:// interop tests)
/usr/bin/python3 -c 'import redis' 2>/dev/null || apt_install python3-redis || exit 1

# ---- Redis: the redis:// result backend's tests, BullMQ in the benchmark's smoke test; nothing kept on disk ----
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -qx PONG; }
if ! redis_up; then
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server || exit 1
  if ! redis_up; then
    echo "services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
    for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
    redis_up || { echo "services: Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
  fi
fi

# ---- PostgreSQL ----
if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi

# ---- Chromium (Debian's), for the sample app's browser test (playwright-core downloads no browser) ----
[ -x /usr/bin/chromium ] || apt_install chromium || exit 1

exit 0
