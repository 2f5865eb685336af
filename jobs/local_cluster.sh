#!/usr/bin/env bash
# A real two-node Ray cluster on one Linux machine, for tests and demos (needs root and iproute2).
#
#   jobs/local_cluster.sh up      # head in netns vkp-head (10.213.0.1), worker in vkp-worker (10.213.0.2)
#   jobs/local_cluster.sh exec CMD...   # run CMD on the head's host (driver side), env set up
#   jobs/local_cluster.sh down    # stop both nodes, remove the namespaces
#
# Ray rewrites 127.0.0.1 to the machine's address when nodes join, so each node is a test host in
# its own network namespace, joined by a veth pair with private addresses that exist only there.
# Token authentication is on (Ray has none by default): a fresh token is written to
# $VIDKP_CLUSTER_DIR/auth_token and RAY_AUTH_MODE=token + RAY_AUTH_TOKEN_PATH are set for the
# nodes and for commands run with `exec`. Settings (environment): VIDKP_CLUSTER_DIR
# (default /tmp/vidkp-cluster), VIDKP_CLUSTER_PREFIX (vkp), VIDKP_CLUSTER_NET (10.213.0),
# VIDKP_HEAD_CPUS / VIDKP_WORKER_CPUS (1 each), RAY (the ray executable; default: the one
# beside this shell's python).
set -euo pipefail

DIR=${VIDKP_CLUSTER_DIR:-/tmp/vidkp-cluster}
P=${VIDKP_CLUSTER_PREFIX:-vkp}
NET=${VIDKP_CLUSTER_NET:-10.213.0}
HEAD_NS=$P-head WORKER_NS=$P-worker
HEAD_IP=$NET.1 WORKER_IP=$NET.2 PORT=6379
RAY=${RAY:-$(dirname "$(command -v python)")/ray}

auth_env() { echo "RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=$DIR/auth_token"; }

up() {
  [ "$(id -u)" = 0 ] || { echo "local_cluster.sh: needs root (ip netns)" >&2; exit 2; }
  ip netns list | grep -qw "$HEAD_NS" && { echo "local_cluster.sh: $HEAD_NS exists; run 'down' first" >&2; exit 2; }
  mkdir -p "$DIR"
  python -c "import secrets; print(secrets.token_hex(32))" > "$DIR/auth_token"
  chmod 600 "$DIR/auth_token"
  ip netns add "$HEAD_NS"
  ip netns add "$WORKER_NS"
  ip link add "$P-h0" type veth peer name "$P-w0"
  ip link set "$P-h0" netns "$HEAD_NS"
  ip link set "$P-w0" netns "$WORKER_NS"
  ip -n "$HEAD_NS" addr add "$HEAD_IP/24" dev "$P-h0"
  ip -n "$WORKER_NS" addr add "$WORKER_IP/24" dev "$P-w0"
  for ns in "$HEAD_NS" "$WORKER_NS"; do ip -n "$ns" link set lo up; done
  ip -n "$HEAD_NS" link set "$P-h0" up
  ip -n "$WORKER_NS" link set "$P-w0" up
  # shellcheck disable=SC2046
  ip netns exec "$HEAD_NS" env $(auth_env) "$RAY" start --head --node-ip-address "$HEAD_IP" --port $PORT \
    --num-cpus "${VIDKP_HEAD_CPUS:-1}" --include-dashboard false --disable-usage-stats >"$DIR/head.log" 2>&1
  # shellcheck disable=SC2046
  ip netns exec "$WORKER_NS" env $(auth_env) "$RAY" start --address "$HEAD_IP:$PORT" --node-ip-address "$WORKER_IP" \
    --num-cpus "${VIDKP_WORKER_CPUS:-1}" --disable-usage-stats >"$DIR/worker.log" 2>&1
  echo "cluster up: head $HEAD_IP:$PORT (netns $HEAD_NS), worker $WORKER_IP (netns $WORKER_NS)"
}

down() {
  for ns in "$WORKER_NS" "$HEAD_NS"; do
    ip netns list | grep -qw "$ns" || continue
    pids=$(ip netns pids "$ns")
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  sleep 2
  for ns in "$WORKER_NS" "$HEAD_NS"; do
    ip netns list | grep -qw "$ns" || continue
    pids=$(ip netns pids "$ns")
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns del "$ns"
  done
  echo "cluster down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  address) echo "$HEAD_IP:$PORT" ;;
  exec) shift; exec ip netns exec "$HEAD_NS" env $(auth_env) RAY_ADDRESS="$HEAD_IP:$PORT" "$@" ;;
  *) echo "usage: $0 up|down|address|exec CMD..." >&2; exit 2 ;;
esac
