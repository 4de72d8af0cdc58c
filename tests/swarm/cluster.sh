#!/usr/bin/env bash
# A real three-node Docker Swarm on this machine, for the swarm tests and
# the swarm benchmark. Sourced (functions below) or run:
#
#   tests/swarm/cluster.sh up      build it; prints the manager's DOCKER_HOST
#   tests/swarm/cluster.sh down    take it all down (idempotent)
#
# The manager (node 1) also answers over TCP, without TLS, at
# SWARM_MANAGER_TCP (tcp://10.231.0.11:2375), on the bridge only
# (--tls=false said outright: dockerd 20.10 otherwise waits 15 s at start).
#
# Each node is its own dockerd (own data-root, exec-root, pidfile, socket
# and managed containerd) in its own network, mount and UTS namespace (its
# hostname is envupsw-nN),
# joined by a veth pair to a bridge made here. Node 1 runs `swarm init`,
# nodes 2 and 3 `swarm join` as workers. The stand-in images' registry
# (127.0.0.1:5858 on this machine, tests/images/build.sh) is made reachable
# to every node at the bridge's address, SWARM_REGISTRY, through socat, and
# each node trusts it as an insecure registry: images are
# $SWARM_REGISTRY/postgres:15 and so on.
#
# It never touches the machine's own engine: its sockets, namespaces,
# bridge and iptables rules are its own, and `down` removes exactly them
# (the FORWARD rules are tagged with a comment). Addresses used: the
# bridge's subnet SWARM_NET (10.231.0.0/24), and for the swarm's own
# networks the pool 10.232.0.0/16 inside the nodes.
#
# Needs root, iproute2, iptables, socat, dockerd and docker (the CLI, for
# the test harness only: envup never runs it).

SWARM_PREFIX=${SWARM_PREFIX:-envupsw}
SWARM_DIR=${SWARM_DIR:-/var/lib/envup-swarm}
SWARM_BRIDGE=${SWARM_PREFIX}0
SWARM_SUBNET=10.231.0
SWARM_NET=$SWARM_SUBNET.0/24
SWARM_GW=$SWARM_SUBNET.1
SWARM_REGISTRY=$SWARM_GW:5858
SWARM_NODES=${SWARM_NODES:-3}
SWARM_COMMENT=envup-swarm-test
SWARM_MANAGER_TCP=tcp://$SWARM_SUBNET.11:2375
SWARM_LOCAL_REGISTRY=127.0.0.1:${ENVUP_TEST_REGISTRY_PORT:-5858}

swarm__say() { printf 'swarm: %s\n' "$*" >&2; }

swarm_node_ip() { echo "$SWARM_SUBNET.$((10 + $1))"; }
swarm_node_sock() { echo "$SWARM_DIR/n$1/docker.sock"; }
swarm_node_host() { echo "unix://$(swarm_node_sock "$1")"; }
# The docker CLI against node N (the harness only).
swarm_docker() { local n=$1; shift; docker -H "$(swarm_node_host "$n")" "$@"; }

# Whether this machine can make what the cluster needs; says what is missing.
swarm_can() {
	local why=
	[ "$(id -u)" = 0 ] || why="not root"
	for c in ip iptables socat dockerd docker nsenter unshare; do
		command -v "$c" >/dev/null 2>&1 || why="${why:+$why; }no $c"
	done
	if [ -z "$why" ]; then
		if ! ip netns add "${SWARM_PREFIX}-probe" 2>/dev/null; then
			why="cannot make a network namespace (ip netns add)"
		else
			ip -n "${SWARM_PREFIX}-probe" link add vxprobe type vxlan id 77 dstport 4789 2>/dev/null ||
				why="no vxlan in this kernel (overlay networks need it)"
			ip netns del "${SWARM_PREFIX}-probe"
		fi
	fi
	[ -z "$why" ] && return 0
	echo "$why"
	return 1
}

swarm_down() {
	local n pid
	for n in $(seq 1 "$SWARM_NODES"); do
		pid=$(cat "$SWARM_DIR/n$n/docker.pid" 2>/dev/null || true)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	for n in $(seq 1 "$SWARM_NODES"); do
		pid=$(cat "$SWARM_DIR/n$n/docker.pid" 2>/dev/null || true)
		[ -n "$pid" ] || continue
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	# containers of a killed node (their shims) and the node's containerd
	for n in $(seq 1 "$SWARM_NODES"); do
		pkill -9 -f -- "$SWARM_DIR/n$n/" 2>/dev/null || true
	done
	if [ -f "$SWARM_DIR/socat.pid" ]; then
		kill "$(cat "$SWARM_DIR/socat.pid")" 2>/dev/null || true
	fi
	for n in $(seq 1 "$SWARM_NODES"); do
		ip netns del "${SWARM_PREFIX}-n$n" 2>/dev/null || true
	done
	ip link del "$SWARM_BRIDGE" 2>/dev/null || true
	while iptables -S FORWARD 2>/dev/null | grep -q -- "--comment $SWARM_COMMENT"; do
		local rule
		rule=$(iptables -S FORWARD | grep -- "--comment $SWARM_COMMENT" | head -n 1 | sed 's/^-A /-D /')
		# shellcheck disable=SC2086
		iptables $rule 2>/dev/null || break
	done
	# anything the nodes mounted stays in their mount namespaces; a mount
	# left here would be a bug, and rm would then fail loudly
	if [ -d "$SWARM_DIR" ]; then
		grep -o " $SWARM_DIR/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "$SWARM_DIR"
	fi
	return 0
}

# Start node N's dockerd in its own network and mount namespace.
swarm__start_node() {
	local n=$1 ns="${SWARM_PREFIX}-n$1" ip d="$SWARM_DIR/n$1"
	ip=$(swarm_node_ip "$n")
	mkdir -p "$d/data" "$d/exec"
	ip netns add "$ns" || return 1
	ip link add "${SWARM_PREFIX}-h$n" type veth peer name eth0 netns "$ns" || return 1
	ip link set "${SWARM_PREFIX}-h$n" master "$SWARM_BRIDGE" up || return 1
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$SWARM_GW"
	# nsenter, not `ip netns exec`: that one remounts /sys, and with it the
	# cgroup hierarchies runc needs
	# ( ... & ): not a child of the caller's shell, whose `wait` would
	# otherwise wait for the node
	(nsenter --net="/run/netns/$ns" unshare --mount --uts --propagation private \
		sh -c 'hostname "$0" && exec setsid "$@"' "$ns" dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
		-H "unix://$d/docker.sock" $([ "$n" = 1 ] && echo "-H tcp://$ip:2375 --tls=false") \
		--insecure-registry "$SWARM_REGISTRY" \
		--storage-driver overlay2 --log-driver json-file \
		>"$d/dockerd.log" 2>&1 </dev/null &)
}

swarm__wait_node() {
	local n=$1
	for _ in $(seq 1 300); do
		[ "$(curl -s --max-time 2 --unix-socket "$(swarm_node_sock "$n")" http://localhost/_ping 2>/dev/null)" = OK ] &&
			return 0
		sleep 0.1
	done
	swarm__say "node $n: dockerd did not answer; its log:"
	tail -n 30 "$SWARM_DIR/n$n/dockerd.log" >&2
	return 1
}

# Every node Ready and Active, seen from the manager.
swarm__ready() {
	[ "$(swarm_docker 1 node ls --format '{{.Status}} {{.Availability}}' 2>/dev/null | grep -c '^Ready Active$')" = "$SWARM_NODES" ]
}

swarm_up() {
	local why n token
	if ! why=$(swarm_can); then
		swarm__say "cannot build a swarm here: $why"
		return 1
	fi
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$SWARM_LOCAL_REGISTRY/v2/")" = 200 ] || {
		swarm__say "no registry on $SWARM_LOCAL_REGISTRY (run tests/images/build.sh)"
		return 1
	}
	if [ "${SWARM_REUSE:-}" = 1 ] && swarm__ready 2>/dev/null; then
		swarm__say "reusing the swarm that answers at $(swarm_node_host 1) (SWARM_REUSE=1)"
		return 0
	fi
	swarm_down
	mkdir -p "$SWARM_DIR"
	ip link add "$SWARM_BRIDGE" type bridge || return 1
	ip addr add "$SWARM_GW/24" dev "$SWARM_BRIDGE"
	ip link set "$SWARM_BRIDGE" up
	# the host engine set FORWARD's policy to DROP: the nodes talk to each
	# other (swarm 2377, gossip 7946, vxlan 4789) across our bridge
	iptables -I FORWARD 1 -i "$SWARM_BRIDGE" -o "$SWARM_BRIDGE" -j ACCEPT -m comment --comment "$SWARM_COMMENT"
	(setsid socat "TCP-LISTEN:5858,bind=$SWARM_GW,fork,reuseaddr" "TCP:$SWARM_LOCAL_REGISTRY" \
		</dev/null >"$SWARM_DIR/socat.log" 2>&1 & echo $! >"$SWARM_DIR/socat.pid")
	for n in $(seq 1 "$SWARM_NODES"); do swarm__start_node "$n" || return 1; done
	for n in $(seq 1 "$SWARM_NODES"); do swarm__wait_node "$n" || return 1; done
	swarm_docker 1 swarm init --advertise-addr "$(swarm_node_ip 1)" --listen-addr "$(swarm_node_ip 1):2377" \
		--default-addr-pool 10.232.0.0/16 >/dev/null || return 1
	token=$(swarm_docker 1 swarm join-token -q worker) || return 1
	for n in $(seq 2 "$SWARM_NODES"); do
		swarm_docker "$n" swarm join --advertise-addr "$(swarm_node_ip "$n")" \
			--listen-addr "$(swarm_node_ip "$n"):2377" --token "$token" "$(swarm_node_ip 1):2377" >/dev/null ||
			return 1
	done
	for _ in $(seq 1 300); do
		swarm__ready && break
		sleep 0.2
	done
	[ "$(swarm_docker 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "$SWARM_NODES" ] || {
		swarm__say "not every node is Ready:"
		swarm_docker 1 node ls >&2
		return 1
	}
	swarm__say "$SWARM_NODES nodes ready; manager $(swarm_node_host 1), registry $SWARM_REGISTRY"
	return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case "${1:-}" in
	up) swarm_up && echo "DOCKER_HOST=$(swarm_node_host 1)" ;;
	down) swarm_down ;;
	can) swarm_can ;;
	*) echo "usage: $0 up|down|can" >&2; exit 2 ;;
	esac
fi
