#!/usr/bin/env bash
# A throwaway 3-node RabbitMQ cluster on 127.0.0.1, for tests of quorum queues and broker failover.
#
#   scripts/cluster.sh up          start queue-c1..3@localhost, cluster them, print their AMQP URLs
#                                  (the last line is the ';'-separated failover list, for AMQP_URL)
#   scripts/cluster.sh status      cluster_status of each running node; exit 0 only if all 3 run
#   scripts/cluster.sh kill <n>... kill -9 node n (1..3), to simulate a crash
#   scripts/cluster.sh start <n>.. start node n again; it rejoins the cluster from its own data dir.
#                                  After all 3 went down, start them together (`start 1 2 3`): each
#                                  waits for its peers before it completes its boot. Seen on 3.10.8:
#                                  a quorum queue declared <1 s before `kill 1 2 3` came back without
#                                  a leader and with an empty log; 5 s after the declare it was fine.
#   scripts/cluster.sh down        stop the 3 nodes and remove CLUSTER_DIR
#
# Environment: CLUSTER_DIR (default /tmp/queue-cluster), CLUSTER_BASE_PORT (default 5681: AMQP on
# 5681..5683, Erlang distribution on AMQP port + 20000), CLUSTER_TIMEOUT (seconds per wait, default 90).
# Run as root (nodes then run as the `rabbitmq` user) or as `rabbitmq`. Uses the Debian/Ubuntu package's
# binaries and the `rabbitmq` user's Erlang cookie, so plain `rabbitmqctl -n queue-c1@localhost ...` works.
# The system node (rabbit@localhost, /etc/rabbitmq) is never stopped, configured or joined: each node
# gets its own config, env file, data, logs and plugin list under CLUSTER_DIR.
set -euo pipefail

CLUSTER_DIR=${CLUSTER_DIR:-/tmp/queue-cluster}
CLUSTER_BASE_PORT=${CLUSTER_BASE_PORT:-5681}
CLUSTER_TIMEOUT=${CLUSTER_TIMEOUT:-90}
NODE_COUNT=3
SEED=1 # c2 and c3 join c1
RUN_USER=rabbitmq

# ---------------------------------------------------------------- helpers

die() { echo "cluster: $*" >&2; exit 1; }
say() { echo "cluster: $*" >&2; }

now() { echo "${EPOCHREALTIME/,/.}"; }
# elapsed <start>: seconds since <start> (from `now`), e.g. 12.3s
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

rabbit_bin_dir() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    echo /usr/lib/rabbitmq/bin # Debian/Ubuntu: call the real scripts, not the /usr/sbin wrappers
  else
    local server
    server=$(command -v rabbitmq-server) || die "rabbitmq-server is not installed"
    dirname "$(readlink -f "$server")"
  fi
}

node_name() { echo "queue-c$1@localhost"; }
node_port() { echo $((CLUSTER_BASE_PORT + $1 - 1)); }
dist_port() { echo $(($(node_port "$1") + 20000)); }
node_dir() { echo "$CLUSTER_DIR/queue-c$1"; }
node_url() { echo "amqp://guest:guest@127.0.0.1:$(node_port "$1")//"; }
# A harmless extra VM argument, so `pgrep -f` can tell this node's beam.smp from every other one
# (RabbitMQ 3.8+ sets the node name at runtime, so it is not on the command line otherwise).
node_marker() { echo "-queue_cluster_node $(node_name "$1")"; }

check_settings() {
  case $CLUSTER_DIR in
    /*) ;;
    *) die "CLUSTER_DIR must be an absolute path (got '$CLUSTER_DIR')" ;;
  esac
  local real
  real=$(realpath -m "$CLUSTER_DIR")
  case $real in
    / | /tmp | /var | /var/lib | /var/lib/rabbitmq* | /etc* | /usr* | /root | /home | /work | /work/main*)
      die "refusing to use CLUSTER_DIR=$CLUSTER_DIR (it gets wiped)" ;;
  esac
  [[ $CLUSTER_BASE_PORT =~ ^[0-9]+$ ]] && ((CLUSTER_BASE_PORT >= 1024 && CLUSTER_BASE_PORT + 20000 + NODE_COUNT <= 65535)) ||
    die "CLUSTER_BASE_PORT must be a number in 1024..$((65535 - 20000 - NODE_COUNT))"
  local n
  for n in $(seq "$NODE_COUNT"); do # never the system node's ports
    case "$(node_port "$n") $(dist_port "$n")" in
      5672\ * | *\ 25672) die "CLUSTER_BASE_PORT=$CLUSTER_BASE_PORT clashes with rabbit@localhost (5672/25672)" ;;
    esac
  done
  [[ $CLUSTER_TIMEOUT =~ ^[0-9]+$ ]] || die "CLUSTER_TIMEOUT must be a number of seconds"
  id -u "$RUN_USER" >/dev/null 2>&1 || die "user '$RUN_USER' missing (install the rabbitmq-server package)"
}

# as_rabbit <cmd...>: run as the rabbitmq user, with a clean, explicit environment given by the caller.
as_rabbit() {
  if [ "$(id -un)" = "$RUN_USER" ]; then
    "$@"
  elif [ "$(id -u)" = 0 ]; then
    runuser -u "$RUN_USER" -- "$@"
  else
    die "run as root or as the $RUN_USER user"
  fi
}

# Environment shared by the server and the CLI: 127.0.0.1 only, the rabbitmq user's cookie.
base_env() {
  BASE_ENV=(
    "PATH=$PATH"
    "HOME=$RUN_HOME"
    "LANG=C.UTF-8"
    "LC_ALL=C.UTF-8"
    "ERL_EPMD_ADDRESS=127.0.0.1"
    "ERL_FLAGS=-kernel inet_dist_use_interface {127,0,0,1}"
  )
}

# node_env <n>: sets NODE_ENV to node n's complete server environment.
node_env() {
  local dir
  dir=$(node_dir "$1")
  base_env
  NODE_ENV=(
    "${BASE_ENV[@]}"
    "RABBITMQ_NODENAME=$(node_name "$1")"
    "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1"
    "RABBITMQ_NODE_PORT=$(node_port "$1")"
    "RABBITMQ_DIST_PORT=$(dist_port "$1")"
    "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf" # instead of /etc/rabbitmq/rabbitmq-env.conf
    "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf"
    "RABBITMQ_CONFIG_FILES=$dir/conf.d" # instead of /etc/rabbitmq/conf.d
    "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config"
    "RABBITMQ_MNESIA_BASE=$dir/mnesia"
    "RABBITMQ_LOG_BASE=$dir/log"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins"
    "RABBITMQ_PID_FILE=$dir/rabbitmq.pid"
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=$(node_marker "$1")"
  )
}

# ctl <n> <rabbitmqctl args...>: rabbitmqctl against node n only (never the system node).
ctl() {
  local n=$1
  shift
  base_env
  (cd / && as_rabbit env -i "${BASE_ENV[@]}" timeout "$((CLUSTER_TIMEOUT + 30))" \
    "$BIN/rabbitmqctl" -n "$(node_name "$n")" "$@") 9>&-
}

node_pid() { # pid of node n's beam.smp, or nothing
  local n=$1 pid file
  file="$(node_dir "$n")/rabbitmq.pid"
  if [ -r "$file" ]; then
    pid=$(tr -dc '0-9' <"$file")
    if [ -n "$pid" ] && grep -qF -- "$(node_marker "$n")" <(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline"); then
      echo "$pid"
      return 0
    fi
  fi
  pgrep -u "$RUN_USER" -f -- "beam\.smp .*$(node_marker "$n")( |\$)" | head -1 || true
}

node_alive() { [ -n "$(node_pid "$1")" ]; }

# The names of the nodes that c<n> reports as running.
running_nodes() {
  ctl "$1" -q cluster_status --formatter json 2>/dev/null |
    grep -o '"running_nodes":\[[^]]*\]' | grep -o 'queue-c[0-9]*@localhost' || true
}
running_count() { running_nodes "$1" | wc -l; }

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# ---------------------------------------------------------------- node lifecycle

write_node_files() {
  local n=$1 dir
  dir=$(node_dir "$n")
  mkdir -p "$dir/mnesia" "$dir/log" "$dir/conf.d"
  cat >"$dir/rabbitmq.conf" <<EOF
# Generated by scripts/cluster.sh for $(node_name "$n").
listeners.tcp.local = 127.0.0.1:$(node_port "$n")
cluster_name = queue-cluster
log.console = false
log.file.level = info
EOF
  echo '[].' >"$dir/enabled_plugins" # no plugins: no management listener to clash
  node_env "$n"
  { # the same settings, for the server scripts' own copy of the env (and for humans)
    echo "# Generated by scripts/cluster.sh for $(node_name "$n")."
    local kv
    for kv in "${NODE_ENV[@]}"; do
      case $kv in ERL_* | RABBITMQ_*) printf "%s='%s'\n" "${kv%%=*}" "${kv#*=}" ;; esac
    done
    echo "export ERL_EPMD_ADDRESS ERL_FLAGS"
  } >"$dir/rabbitmq-env.conf"
}

# launch <n>: rabbitmq-server -detached for node n (returns at once; see await_node).
launch() {
  local n=$1 dir
  dir=$(node_dir "$n")
  node_env "$n"
  # 9>&-: the detached VM must not inherit (and so hold forever) the lock taken in main.
  (cd "$dir" && as_rabbit env -i "${NODE_ENV[@]}" "$BIN/rabbitmq-server" -detached) \
    >>"$dir/log/startup.log" 2>&1 9>&- || die "$(node_name "$n") failed to launch, see $dir/log"
}

# await_node <n>: `await_startup` fails at once while the new VM is not yet registered with epmd;
# `wait <pid file>` waits for the pid file, then for that process, then for its app to be running.
await_node() {
  local n=$1
  ctl "$n" -q wait "$(node_dir "$n")/rabbitmq.pid" --timeout "$CLUSTER_TIMEOUT" >/dev/null 2>&1 ||
    die "$(node_name "$n") did not start within ${CLUSTER_TIMEOUT}s, see $(node_dir "$n")/log"
}

join_seed() { # <n>: join node n (app stopped) to the seed
  local out
  # Its output is shown on failure only: 3.10 always logs "Failed to create a tracked connection table
  # for node ... node_not_running" here, harmlessly (the joining node's app is stopped by design).
  out=$(ctl "$1" -q join_cluster "$(node_name "$SEED")" 2>&1) ||
    die "$(node_name "$1") could not join $(node_name "$SEED"): $out"
}

await_cluster() { # until the seed reports all nodes running
  local deadline=$((SECONDS + CLUSTER_TIMEOUT)) count=0
  while ((SECONDS < deadline)); do
    count=$(running_count "$SEED")
    ((count == NODE_COUNT)) && return 0
    sleep 0.5
  done
  die "cluster_status on $(node_name "$SEED") shows $count of $NODE_COUNT nodes running after ${CLUSTER_TIMEOUT}s"
}

# wait_dead <n> <seconds>: true once node n's process is gone
wait_dead() {
  local n=$1 tries=$(($2 * 5)) i
  for ((i = 0; i < tries; i++)); do
    node_alive "$n" || return 0
    sleep 0.2
  done
  ! node_alive "$n"
}

stop_node() {
  local n=$1 pid
  node_alive "$n" || return 0
  ctl "$n" -q stop >/dev/null 2>&1 || true
  wait_dead "$n" 20 && return 0
  pid=$(node_pid "$n")
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  wait_dead "$n" 10 || die "$(node_name "$n") (pid $pid) survived kill -9"
  say "$(node_name "$n") did not stop in time and was killed"
}

# ---------------------------------------------------------------- commands

print_urls() {
  local n urls=()
  for n in $(seq "$NODE_COUNT"); do
    printf '%s %s\n' "$(node_name "$n")" "$(node_url "$n")"
    urls+=("$(node_url "$n")")
  done
  (IFS=';' && echo "${urls[*]}")
}

healthy() {
  local n
  for n in $(seq "$NODE_COUNT"); do
    node_alive "$n" && port_in_use "$(node_port "$n")" || return 1 # (not a cluster on other ports)
  done
  [ "$(running_count "$SEED")" -eq "$NODE_COUNT" ]
}

cmd_up() {
  local t0 t n pids=()
  t0=$(now)
  if healthy; then
    say "already up"
    print_urls
    return 0
  fi
  cmd_down quiet # whatever a previous run left: our nodes and CLUSTER_DIR only

  for n in $(seq "$NODE_COUNT"); do
    if port_in_use "$(node_port "$n")" || port_in_use "$(dist_port "$n")"; then
      die "port $(node_port "$n") or $(dist_port "$n") (for $(node_name "$n")) is already in use"
    fi
  done
  mkdir -p "$CLUSTER_DIR"
  for n in $(seq "$NODE_COUNT"); do write_node_files "$n"; done
  chown -R "$RUN_USER:" "$CLUSTER_DIR"

  t=$(now)
  for n in $(seq "$NODE_COUNT"); do
    (launch "$n" && await_node "$n") &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || { cmd_down quiet; die "start failed (see above)"; }; done
  say "$NODE_COUNT nodes booted in $(elapsed "$t")"

  # Join c2..cN to c1: stop their apps in parallel, join one at a time (membership changes are
  # serialised anyway), then boot them in parallel as members.
  t=$(now)
  pids=()
  for n in $(seq 2 "$NODE_COUNT"); do ctl "$n" -q stop_app >/dev/null & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || { cmd_down quiet; die "stop_app failed"; }; done
  for n in $(seq 2 "$NODE_COUNT"); do join_seed "$n"; done
  pids=()
  for n in $(seq 2 "$NODE_COUNT"); do ctl "$n" -q start_app >/dev/null & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || { cmd_down quiet; die "start_app after join failed"; }; done
  await_cluster
  say "joined in $(elapsed "$t"); cluster up in $(elapsed "$t0")"
  print_urls
}

cmd_down() {
  local quiet=${1:-} t n pids=()
  t=$(now)
  for n in $(seq "$NODE_COUNT"); do
    stop_node "$n" &
    pids+=($!)
  done
  local failed=0
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || die "could not stop every node"
  rm -rf -- "$CLUSTER_DIR"
  [ -n "$quiet" ] || say "down in $(elapsed "$t")"
}

cmd_status() {
  local n up=0
  for n in $(seq "$NODE_COUNT"); do
    if node_alive "$n" && ctl "$n" cluster_status 2>&1; then
      up=$((up + 1))
    else
      echo "$(node_name "$n"): not running"
    fi
    echo
  done
  echo "$up of $NODE_COUNT nodes running"
  ((up == NODE_COUNT))
}

node_arg() {
  [[ ${1:-} =~ ^[1-9][0-9]*$ ]] && (($1 <= NODE_COUNT)) || die "expected a node number 1..$NODE_COUNT"
}

cmd_kill() { # <n>...
  local n t pid
  (($# > 0)) || node_arg ""
  for n in "$@"; do node_arg "$n"; done
  for n in "$@"; do
    pid=$(node_pid "$n")
    [ -n "$pid" ] || die "$(node_name "$n") is not running"
    t=$(now)
    kill -9 "$pid"
    wait_dead "$n" 10 || die "$(node_name "$n") (pid $pid) survived kill -9"
    say "killed $(node_name "$n") (pid $pid) in $(elapsed "$t")"
  done
}

start_one() {
  local n=$1 t
  if node_alive "$n"; then
    say "$(node_name "$n") is already running"
    return 0
  fi
  if port_in_use "$(node_port "$n")"; then die "port $(node_port "$n") is already in use"; fi
  t=$(now)
  launch "$n"
  await_node "$n"
  say "started $(node_name "$n") in $(elapsed "$t")"
}

cmd_start() { # <n>...: in parallel
  local n t pids=() failed=0
  (($# > 0)) || node_arg ""
  for n in "$@"; do
    node_arg "$n"
    [ -d "$(node_dir "$n")/mnesia" ] || die "no data for $(node_name "$n") in $CLUSTER_DIR (run: $0 up)"
  done
  t=$(now)
  for n in "$@"; do
    start_one "$n" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || die "start failed (see above)"
  (($# == 1)) || say "started $* in $(elapsed "$t")"
  say "running nodes seen by $(node_name "$1"): $(running_nodes "$1" | tr '\n' ' ')"
}

main() {
  local cmd=${1:-}
  shift || true
  check_settings
  BIN=$(rabbit_bin_dir)
  RUN_HOME=$(getent passwd "$RUN_USER" | cut -d: -f6)
  # One command at a time (node names are machine-wide, so whatever CLUSTER_DIR): lock this script.
  exec 9<"${BASH_SOURCE[0]}"
  flock -w "$((CLUSTER_TIMEOUT * 3))" 9 || die "another cluster.sh is still running"
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    kill) cmd_kill "$@" ;;
    start) cmd_start "$@" ;;
    *) die "usage: $0 up|down|status|kill <n>...|start <n>..." ;;
  esac
}

main "$@"
