#!/usr/bin/env bash
# The Swarm backend on a real three-node swarm (tests/swarm/cluster.sh):
# three dockerd, each in its own network, mount and UTS namespace, joined
# over a bridge of the test's own. envup runs as users run it, a process
# per command, against the manager's socket; real clients (psql,
# redis-cli, curl) check every URL it exports, from this machine.
#
# Cases (SWARM_CASES="stack drain" runs some; default all):
#   manager   not a manager (a plain engine, a worker), unknown backends:
#             a clear error, exit 2, nothing made
#   stack     the three-service spec (init SQL, expectations) with
#             `backend: swarm` in the spec; status shows each node; env,
#             ls, logs, db new; envdown leaves nothing on any node
#   compose   the Go service's docker-compose.test.yml unchanged (its bind
#             mount as a config) and a Compose healthcheck run by the swarm
#   ten       ten environments at once: placement shown, all ready, no
#             port or name collision, nothing left
#   pull      an image no node can pull: the service, the node and the
#             scheduler's error named, exit 1, nothing left
#   log       `wait: log` on a swarm: ready when the line comes, and a task
#             that ends first fails the up at once, not at the timeout
#   tcp       the manager over tcp:// (a remote engine): same stack, same URLs
#   ports     a fixed host port: one environment per node, and the fourth
#             fails at once with the scheduler's "no suitable node"
#   drain     a node drained while an environment is up: its service's
#             task is shut down and not moved (restart condition none);
#             status says so; a new up avoids the node; envdown cleans up
#   owner     the owner dies: the watchdog removes the swarm environment
#             within 30 s
#   foreign   envdown --all and gc leave services without envup's labels
#
# In CI (CI=true) a machine that cannot build the swarm fails the test;
# elsewhere it is skipped, saying why.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../workflow/lib.sh
. "$HERE/../workflow/lib.sh"
# shellcheck source=cluster.sh
. "$HERE/cluster.sh"

wf_require_engine
if ! why=$(swarm_can); then
	if [ "${CI:-}" = true ] || [ "${ENVUP_TEST_REQUIRE_SWARM:-}" = 1 ]; then
		echo "FAIL: cannot build a swarm on this machine: $why" >&2
		exit 1
	fi
	echo "skipped: cannot build a swarm on this machine: $why" >&2
	exit 77
fi
wf_init
command -v psql >/dev/null || wf_fail "psql is missing (postgresql-client)"

SW_CASES=${SWARM_CASES:-manager stack compose ten pull log tcp ports drain owner foreign}
MANAGER=$(swarm_node_host 1)
export DOCKER_HOST=$MANAGER
export ENVUP_HUB_IMAGE_PREFIX="$SWARM_REGISTRY/"
unset ENVUP_BACKEND ENVUP_HOST

# Everything of environment NAME on the swarm: services, configs and
# networks on the manager, task containers on every node.
# Services, configs and networks of NAME on the manager.
sw_manager_left() {
	local n=$1
	echo $(( $(swarm_docker 1 service ls -q --filter "label=dev.envup.env=$n" | wc -l) +
		$(swarm_docker 1 config ls -q --filter "label=dev.envup.env=$n" | wc -l) +
		$(swarm_docker 1 network ls -q --filter "label=dev.envup.env=$n" | wc -l) ))
}

sw_leftovers() {
	local n=$1 k i
	k=$(sw_manager_left "$n")
	for i in $(seq 1 "$SWARM_NODES"); do
		k=$((k + $(swarm_docker "$i" ps -a --filter "label=com.docker.swarm.service.name" \
			--format '{{.Names}}' | grep -c "^envup-$n-" || true)))
	done
	echo "$k"
}

sw_cleanup() {
	local rc=$? n
	for n in "${WF_NAMES[@]}"; do
		envup down -q --force -n "$n" >/dev/null 2>&1 || true
		for _ in $(seq 1 150); do [ "$(sw_leftovers "$n")" = 0 ] && break; sleep 0.2; done
		if [ "$(sw_leftovers "$n")" != 0 ]; then
			echo "FAIL: environment $n left $(sw_leftovers "$n") resources on the swarm" >&2
			rc=1
		fi
	done
	WF_NAMES=()
	for n in $(seq 1 "$SWARM_NODES"); do
		swarm_docker 1 node update --availability active "$(swarm_node_name "$n")" >/dev/null 2>&1 || true
	done
	swarm_docker 1 service rm "foreign-$$" "forged-$$" >/dev/null 2>&1 || true
	if [ "${SWARM_KEEP:-}" != 1 ]; then
		swarm_down
		# the swarm's own bridge, namespaces and rules are gone with it
		ip link show "$SWARM_BRIDGE" >/dev/null 2>&1 && { echo "FAIL: bridge left" >&2; rc=1; }
		iptables -S FORWARD | grep -q -- "$SWARM_COMMENT" && { echo "FAIL: iptables rules left" >&2; rc=1; }
	fi
	wf_cleanup "$rc"
}
trap sw_cleanup EXIT

swarm_node_name() { echo "${SWARM_PREFIX}-n$1"; }

sw_gone() {
	local n=$1 limit=$2 start=$SECONDS
	while [ "$(sw_leftovers "$n")" != 0 ]; do
		[ $((SECONDS - start)) -gt "$limit" ] && wf_fail "$n still on the swarm ${limit}s later"
		sleep 0.2
	done
	echo $((SECONDS - start))
}

# Nothing of NAME left on the manager (services, configs, network) now;
# the nodes' task containers go a few seconds later, and the exit check
# (sw_cleanup) requires them gone for every name.
sw_gone_here() {
	local n=$1 k
	k=$(sw_manager_left "$n")
	[ "$k" = 0 ] || wf_fail "$n left $k resources on the manager"
}

# The node (hostname) of each service of NAME: "service node" lines.
sw_placement() {
	envup status -n "$1" --format json | python3 -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    print(s["service"], s["node"], s["ports"][0]["host_ip"] + ":" + str(s["ports"][0]["host_port"]) if s["ports"] else "-")'
}

swarm_up || wf_fail "the swarm did not come up"
swarm_docker 1 node ls

case_manager() {
	local dir n out rc
	wf_dir dir
	wf_name n
	printf 'name: %s\nservices:\n  cache: { template: redis }\n' "$n" >"$dir/envup.yaml"
	out=$(cd "$dir" && DOCKER_HOST=unix:///var/run/docker.sock envup up --backend swarm 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] || wf_fail "up --backend swarm on a plain engine: exit $rc, not 2: $out"
	case "$out" in *"not part of a swarm"*"point DOCKER_HOST at a swarm manager"*) ;;
		*) wf_fail "up --backend swarm on a plain engine says: $out" ;; esac
	[ "$(DOCKER_HOST=unix:///var/run/docker.sock docker network ls -q --filter "label=dev.envup.env=$n" | wc -l)" = 0 ] ||
		wf_fail "a refused up left a network on the plain engine"
	wf_ok "a plain engine: $out"
	out=$(cd "$dir" && DOCKER_HOST=$(swarm_node_host 2) envup up --backend swarm 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] || wf_fail "up --backend swarm on a worker: exit $rc: $out"
	case "$out" in *"swarm worker, not a manager"*) ;; *) wf_fail "on a worker: $out" ;; esac
	wf_ok "a worker: $out"
	out=$(cd "$dir" && ENVUP_BACKEND=kubernetes envup up 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] && case "$out" in *"unknown backend 'kubernetes' (ENVUP_BACKEND)"*) true ;; *) false ;; esac ||
		wf_fail "ENVUP_BACKEND=kubernetes: exit $rc: $out"
	out=$(cd "$dir" && envup up --backend k8s 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] || wf_fail "--backend k8s: exit $rc: $out"
	printf 'name: %s\nbackend: swarms\nservices:\n  cache: { template: redis }\n' "$n" >"$dir/envup.yaml"
	out=$(cd "$dir" && envup up 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] && case "$out" in *"envup.yaml:2:"*"unknown backend 'swarms'"*) true ;; *) false ;; esac ||
		wf_fail "backend: swarms in a spec: exit $rc: $out"
	[ "$(sw_leftovers "$n")" = 0 ] || wf_fail "refused ups left something on the swarm"
	wf_ok "unknown backends refused with exit 2: $out"
	# what a swarm cannot do, all of it in one line, before anything exists
	cat >"$dir/docker-compose.yml" <<-'EOF'
	services:
	  db:
	    image: postgres:15-alpine
	    environment: {POSTGRES_PASSWORD: x}
	    ports: ["127.0.0.1:5432:5432"]
	    volumes: [data:/var/lib/postgresql/data]
	  tool:
	    image: redis:7-alpine
	    privileged: true
	    volumes: [data:/data]
	volumes:
	  data: {}
	EOF
	rm -f "$dir/envup.yaml"
	out=$(cd "$dir" && envup up -n "$n" --backend swarm 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] || wf_fail "a spec a swarm cannot run: exit $rc: $out"
	case "$out" in *"volume 'data' is used by services db and tool"*) ;; *) wf_fail "shared volume: $out" ;; esac
	sed -i 's/    volumes: \[data:\/data\]//' "$dir/docker-compose.yml"
	out=$(cd "$dir" && envup up -n "$n" --backend swarm 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] || wf_fail "a spec a swarm cannot run: exit $rc: $out"
	case "$out" in *"docker-compose.yml:"*"services.db: port 5432 is bound to 127.0.0.1"*"services.tool: privileged is not supported on a swarm"*) ;;
		*) wf_fail "bound port and privileged not both named: $out" ;; esac
	[ "$(sw_leftovers "$n")" = 0 ] || wf_fail "refused ups left something on the swarm"
	wf_ok "what a swarm cannot run is refused before anything is made: $(echo "$out" | tail -n 1)"
}

case_stack() {
	local dir n out exports node host took rc
	wf_dir dir
	wf_name n
	cp "$WF_SOURCE_DIR/tests/data/init/01_schema.sql" "$WF_SOURCE_DIR/tests/data/init/02_data.sql" \
		"$WF_SOURCE_DIR/tests/data/init/expectations.json" "$dir/"
	cat >"$dir/envup.yaml" <<-EOF
	name: $n
	backend: swarm
	services:
	  db:
	    template: postgres
	    init: [01_schema.sql, 02_data.sql]
	  cache:
	    template: redis
	  mock:
	    template: mockserver
	    expectations: expectations.json
	EOF
	exports=$(cd "$dir" && envup up --keep 2>"$dir/up.err") || { cat "$dir/up.err" >&2; wf_fail "up of the stack"; }
	grep -q "ready in" "$dir/up.err" || wf_fail "no ready line: $(cat "$dir/up.err")"
	(
		eval "$exports"
		[ "$(psql "$DB_URL" -Atc 'select count(*) from init_order')" -ge 2 ] || exit 1
		[ "$(redis-cli -u "$CACHE_URL" --no-auth-warning set k v)" = OK ] || exit 2
		[ "$(redis-cli -u "$CACHE_URL" --no-auth-warning get k)" = v ] || exit 3
		[ "$(curl -s "$MOCK_URL/api/users/1")" = '{"id": 1, "name": "Ada"}' ] ||
			[ "$(curl -s "$MOCK_URL/api/users/1" | tr -d ' ')" = '{"id":1,"name":"Ada"}' ] || exit 4
		case "$DB_HOST$CACHE_HOST$MOCK_HOST" in *127.0.0.1*) exit 5 ;; esac
	) || wf_fail "a URL of the stack does not answer as it should (check $?): $exports"
	wf_ok "psql, redis-cli and curl answer at the exported URLs"
	out=$(envup status -n "$n") || wf_fail "status: $out"
	echo "$out"
	echo "$out" | grep -q '^SERVICE .* NODE ' || wf_fail "status has no NODE column"
	# each service's node is the one its URL points at
	while read -r svc node host; do
		case "$node" in "${SWARM_PREFIX}-n"[123]) ;; *) wf_fail "$svc runs on '$node'" ;; esac
		[ "${host%:*}" = "$(swarm_node_ip "${node##*-n}")" ] ||
			wf_fail "$svc: status says node $node, its port is at $host"
		grep -q "${svc^^}_HOST='${host%:*}'" <<<"$exports" || wf_fail "$svc: exports do not point at $host"
	done < <(sw_placement "$n")
	wf_ok "status names the node of each service, the node its URL points at"
	[ "$(envup env -n "$n")" = "$exports" ] || wf_fail "envup env differs from up's exports"
	envup ls | grep -q "^$n  *3/3 " || wf_fail "ls: $(envup ls)"
	envup logs -n "$n" cache 2>&1 | grep -q "Ready to accept connections" || wf_fail "logs of cache"
	out=$(envup db new -n "$n" db) || wf_fail "db new: $out"
	[ "$(psql "$out" -Atc 'select count(*) from init_order')" -ge 2 ] || wf_fail "the new database has no init data: $out"
	envup reset -n "$n" >/dev/null 2>&1 || wf_fail "reset"
	(
		eval "$exports"
		[ -z "$(redis-cli -u "$CACHE_URL" --no-auth-warning get k)" ] || exit 1
		[ "$(psql "$DB_URL" -Atc 'select count(*) from init_order')" -ge 2 ] || exit 2
	) || wf_fail "reset did not put the stack back as up left it (check $?)"
	wf_ok "env, ls, logs, db new and reset work on the swarm"
	envdown -q -n "$n" || wf_fail "envdown"
	[ "$(swarm_docker 1 service ls -q --filter "label=dev.envup.env=$n" | wc -l)" = 0 ] ||
		wf_fail "envdown returned with services left"
	took=$(sw_gone "$n" 30) || exit 1
	wf_ok "envdown left nothing on any node (the nodes' task containers were gone ${took}s after it returned)"
	wf_name n
	out=$(cd "$dir" && envup run -n "$n" -q -- sh -c 'redis-cli -u "$CACHE_URL" --no-auth-warning ping; exit 7') &&
		rc=0 || rc=$?
	[ "$rc" = 7 ] && [ "$out" = PONG ] || wf_fail "envup run on the swarm: exit $rc, output $out"
	[ "$(swarm_docker 1 service ls -q --filter "label=dev.envup.env=$n" | wc -l)" = 0 ] ||
		wf_fail "envup run left services"
	wf_ok "envup run on the swarm: the command saw the environment, its exit code came back, nothing left"
}

case_compose() {
	local dir n exports
	wf_dir dir
	wf_name n
	cp -r "$WF_SOURCE_DIR/tests/data/compose/good/test_stack.yaml" "$WF_SOURCE_DIR/tests/data/compose/good/mocks" "$dir/"
	: >"$dir/mocks/.gitkeep"   # empty: a swarm config cannot be, so it is not copied
	# the Go service's file, and one service whose readiness is its
	# Compose healthcheck alone (no template knows nginx)
	cat >"$dir/docker-compose.web.yml" <<-'EOF'
	services:
	  web:
	    image: nginx:1.27-alpine
	    ports: ["80"]
	    healthcheck:
	      test: ["CMD-SHELL", "test -e /etc/nginx/nginx.conf"]
	      interval: 30s
	EOF
	exports=$(cd "$dir" && envup up -f test_stack.yaml -n "$n" --backend swarm --keep postgres redis mockserver \
		2>"$dir/up.err") || { cat "$dir/up.err" >&2; wf_fail "up of the Compose file"; }
	(
		eval "$exports"
		[ "$(psql "$POSTGRES_URL" -Atc 'select 1')" = 1 ] || exit 1
		[ "$(redis-cli -u "$REDIS_URL" ping)" = PONG ] || exit 2
		# the expectation from the bind mount (copied as a swarm config)
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$MOCKSERVER_URL/x")" = 204 ] || exit 3
	) || wf_fail "the Compose stack does not answer (check $?): $exports"
	swarm_docker 1 config ls --filter "label=dev.envup.env=$n" --format '{{.Name}}' | grep -q "envup-$n-mockserver-file" ||
		wf_fail "the bind mount is not a config"
	wf_ok "the Go service's Compose file, unchanged, answers on the swarm"
	envdown -q -n "$n"
	wf_name n
	exports=$(cd "$dir" && envup up -f docker-compose.web.yml -n "$n" --backend swarm --keep 2>"$dir/up.err") ||
		{ cat "$dir/up.err" >&2; wf_fail "up of the healthcheck service"; }
	swarm_docker 1 service inspect "envup-$n-web" --format '{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck.Test}}' |
		grep -q 'test -e /etc/nginx/nginx.conf' || wf_fail "the healthcheck is not the service's"
	(eval "$exports"; curl -sf -o /dev/null "http://$WEB_HOST:$WEB_PORT/") || wf_fail "web does not answer: $exports"
	wf_ok "a Compose healthcheck is run by the swarm, and the service was ready after it"
	envdown -q -n "$n"
}

case_ten() {
	local dir i n names=() pids=() placement nodes pairs
	wf_dir dir
	printf 'services:\n  cache: { template: redis }\n  mock: { template: mockserver }\n' >"$dir/envup.yaml"
	for i in $(seq 1 10); do
		wf_name n
		names+=("$n")
		(cd "$dir" && envup up -n "$n" --backend swarm --keep >"$dir/$n.env" 2>"$dir/$n.err") &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "$dir/${names[$i]}.err" >&2; wf_fail "up of ${names[$i]}"; }
	done
	: >"$dir/placement"
	for n in "${names[@]}"; do
		sw_placement "$n" | sed "s/^/$n /" >>"$dir/placement"
		(
			. "$dir/$n.env"
			[ "$(redis-cli -u "$CACHE_URL" --no-auth-warning ping)" = PONG ] &&
				[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$MOCK_URL/mockserver/status")" = 200 ]
		) || wf_fail "$n does not answer at its URLs"
	done
	echo "placement of ten environments (environment service node address):"
	column -t "$dir/placement"
	nodes=$(awk '{ print $3 }' "$dir/placement" | sort -u | wc -l)
	pairs=$(awk '{ print $4 }' "$dir/placement" | sort | uniq -d | wc -l)
	[ "$(wc -l <"$dir/placement")" = 20 ] || wf_fail "not 20 services"
	[ "$nodes" = 3 ] || wf_fail "twenty services on $nodes nodes, not spread over three"
	[ "$pairs" = 0 ] || wf_fail "two services share an address and port"
	[ "$(swarm_docker 1 service ls --filter label=dev.envup.managed=true -q | wc -l)" = 20 ] ||
		wf_fail "not twenty services on the swarm"
	awk '{ print $3 }' "$dir/placement" | sort | uniq -c | sed 's/^/ok: services per node: /'
	wf_ok "ten environments ready at once, spread over $nodes nodes, no address or name shared"
	pids=()
	for n in "${names[@]}"; do envdown -q -n "$n" & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || wf_fail "an envdown failed"; done
	for n in "${names[@]}"; do
		sw_gone_here "$n"
	done
	wf_ok "ten envdowns at once left nothing"
}

case_pull() {
	local dir n out rc
	wf_dir dir
	wf_name n
	cat >"$dir/envup.yaml" <<-EOF
	name: $n
	services:
	  cache: { template: redis }
	  ghost:
	    image: $SWARM_REGISTRY/envup-test/no-such-image:1
	    ports: [8080]
	EOF
	out=$(cd "$dir" && envup up --backend swarm --keep 2>&1) && rc=0 || rc=$?
	[ "$rc" = 1 ] || wf_fail "an unpullable image: exit $rc, not 1: $out"
	echo "$out" | grep -E "ghost.*swarm task rejected on node ${SWARM_PREFIX}-n[123]: .*No such image" ||
		wf_fail "the failure does not name the service, the node and the error: $out"
	sw_gone_here "$n"
	wf_ok "an unpullable image names the service, the node and the scheduler's error; nothing left"
}

case_log() {
	local dir n out rc start
	wf_dir dir
	wf_name n
	cat >"$dir/envup.yaml" <<-EOF
	name: $n
	services:
	  talker:
	    image: nginx:1.27-alpine
	    command: ["sh", "-c", "echo warming up; sleep 1; echo ready now; exec sleep 600"]
	    wait: {log: {pattern: "ready now"}}
	EOF
	(cd "$dir" && envup up --backend swarm --keep >/dev/null 2>"$dir/up.err") || { cat "$dir/up.err" >&2; wf_fail "up with a log wait"; }
	envdown -q -n "$n"
	wf_name n
	cat >"$dir/envup.yaml" <<-EOF
	name: $n
	services:
	  quitter:
	    image: nginx:1.27-alpine
	    command: ["sh", "-c", "echo bye; exit 3"]
	    wait: {log: {pattern: "never printed"}}
	EOF
	start=$SECONDS
	out=$(cd "$dir" && envup up --backend swarm --keep --timeout 60 2>&1) && rc=0 || rc=$?
	[ "$rc" = 1 ] || wf_fail "a task that ends before its log line: exit $rc: $out"
	[ $((SECONDS - start)) -lt 30 ] || wf_fail "it failed only at the timeout ($((SECONDS - start))s): $out"
	echo "$out" | grep -E "quitter: .*(exit|failed).*before log pattern" || wf_fail "the failure does not say why: $out"
	sw_gone_here "$n"
	wf_ok "wait: log on a swarm: ready on its line; a task that ends first fails in $((SECONDS - start))s"
}

case_tcp() {
	local dir n exports
	wf_dir dir
	wf_name n
	printf 'services:\n  db: { template: postgres }\n  cache: { template: redis }\n' >"$dir/envup.yaml"
	exports=$(cd "$dir" && DOCKER_HOST=$SWARM_MANAGER_TCP envup up -n "$n" --backend swarm --keep 2>"$dir/up.err") ||
		{ cat "$dir/up.err" >&2; wf_fail "up over tcp://"; }
	(
		eval "$exports"
		case "$DB_HOST $CACHE_HOST" in *"$SWARM_SUBNET".1[123]*) ;; *) exit 1 ;; esac
		[ "$(psql "$DB_URL" -Atc 'select 1')" = 1 ] && [ "$(redis-cli -u "$CACHE_URL" --no-auth-warning ping)" = PONG ]
	) || wf_fail "over tcp:// the URLs do not answer at the nodes: $exports"
	DOCKER_HOST=$SWARM_MANAGER_TCP envup status -n "$n" | grep -q "^db .*${SWARM_PREFIX}-n" || wf_fail "status over tcp://"
	DOCKER_HOST=$SWARM_MANAGER_TCP envdown -q -n "$n" || wf_fail "envdown over tcp://"
	sw_gone_here "$n"
	wf_ok "the manager over tcp://: up, URLs at the nodes, status and envdown"
}

case_ports() {
	local dir i n out rc names=()
	wf_dir dir
	# a Compose file that fixes its host port, as many do
	printf 'services:\n  cache:\n    image: redis:7-alpine\n    ports: ["16379:6379"]\n' >"$dir/docker-compose.yml"
	local pids=()
	for i in 1 2 3; do
		wf_name n
		names+=("$n")
		(cd "$dir" && envup up -n "$n" --backend swarm --keep >/dev/null 2>"$dir/$n.err") &
		pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[$i]}" || { cat "$dir/${names[$i]}.err" >&2; wf_fail "up $((i + 1)) of a fixed port"; }
	done
	[ "$(for n in "${names[@]}"; do sw_placement "$n"; done | awk '{ print $2 }' | sort -u | wc -l)" = 3 ] ||
		wf_fail "three environments of one fixed port are not on three nodes"
	for n in "${names[@]}"; do
		(eval "$(envup env -n "$n")"; [ "$CACHE_PORT" = 16379 ] && [ "$(redis-cli -h "$CACHE_HOST" -p 16379 ping)" = PONG ]) ||
			wf_fail "$n does not answer on 16379"
	done
	wf_name n
	out=$(cd "$dir" && envup up -n "$n" --backend swarm --keep 2>&1) && rc=0 || rc=$?
	[ "$rc" = 1 ] || wf_fail "a fourth environment of a fixed port: exit $rc: $out"
	echo "$out" | grep -E "cache: the swarm has no node for it: .*no suitable node" ||
		wf_fail "the fourth does not say the scheduler's words: $out"
	sw_gone_here "$n"
	for n in "${names[@]}"; do envdown -q -n "$n"; done
	wf_ok "a fixed port: one environment per node, the fourth refused with the scheduler's words"
}

case_drain() {
	local dir n n2 node out
	wf_dir dir
	wf_name n
	printf 'services:\n  cache: { template: redis }\n  queue: { template: redis }\n' >"$dir/envup.yaml"
	(cd "$dir" && envup up -n "$n" --backend swarm --keep >"$dir/a.env" 2>"$dir/a.err") || { cat "$dir/a.err" >&2; wf_fail "up"; }
	node=$(sw_placement "$n" | awk '$1 == "cache" { print $2 }')
	swarm_docker 1 node update --availability drain "$node" >/dev/null || wf_fail "drain $node"
	for _ in $(seq 1 150); do
		out=$(envup status -n "$n")
		echo "$out" | grep -q '^cache .*exited' && break
		sleep 0.2
	done
	echo "$out"
	echo "$out" | grep -q "^cache .*exited.*the node was drained" ||
		wf_fail "status after draining $node does not say so: $out"
	[ "$(swarm_docker 1 service ps "envup-$n-cache" -q | wc -l)" = 1 ] ||
		wf_fail "the swarm moved the task (restart condition none should not)"
	(. "$dir/a.env"; redis-cli -u "$CACHE_URL" --no-auth-warning ping >/dev/null 2>&1) &&
		wf_fail "the drained service still answers"
	wf_ok "draining $node stopped cache's task, not moved; status says why"
	wf_name n2
	(cd "$dir" && envup up -n "$n2" --backend swarm --keep >"$dir/b.env" 2>"$dir/b.err") || { cat "$dir/b.err" >&2; wf_fail "up during drain"; }
	sw_placement "$n2" | awk -v d="$node" '$2 == d { exit 1 }' || wf_fail "a new up placed a service on drained $node"
	wf_ok "a new up while $node is drained avoids it: $(sw_placement "$n2" | awk '{ printf "%s on %s; ", $1, $2 }')"
	envdown -q -n "$n" || wf_fail "envdown of the drained environment"
	envdown -q -n "$n2"
	sw_gone_here "$n"
	sw_gone_here "$n2"
	swarm_docker 1 node update --availability active "$node" >/dev/null
	wf_ok "envdown removes a drained environment entirely"
}

case_owner() {
	local dir n owner took
	wf_dir dir
	wf_name n
	printf 'services:\n  cache: { template: redis }\n  queue: { template: redis }\n' >"$dir/envup.yaml"
	setsid sleep 600 </dev/null >/dev/null 2>&1 &
	owner=$!
	(cd "$dir" && envup up -n "$n" --backend swarm --owner-pid "$owner" >/dev/null 2>"$dir/up.err") ||
		{ cat "$dir/up.err" >&2; wf_fail "up"; }
	[ "$(swarm_docker 1 service ls -q --filter "label=dev.envup.env=$n" | wc -l)" = 2 ] || wf_fail "not up"
	kill -9 "$owner"
	took=$(sw_gone "$n" 30) || exit 1
	wf_ok "the owner died: the watchdog removed the swarm environment in ${took}s"
	wf_removal_reason "$n" >/dev/null
}

case_foreign() {
	local dir n
	wf_dir dir
	wf_name n
	# a name a swarm cannot take as it is ('.'): its services are envup-N-dot-...
	n="$n.dot"
	wf_track "$n"
	printf 'services:\n  cache: { template: redis }\n' >"$dir/envup.yaml"
	(cd "$dir" && envup up -n "$n" --backend swarm --keep >/dev/null 2>"$dir/up.err") || { cat "$dir/up.err" >&2; wf_fail "up"; }
	swarm_docker 1 service inspect "envup-${n%.dot}-dot-cache" >/dev/null || wf_fail "no service envup-${n%.dot}-dot-cache"
	envup status -n "$n" | grep -q '^cache .*running' || wf_fail "status of $n"
	swarm_docker 1 service create -d -q --name "foreign-$$" --restart-condition none \
		"$SWARM_REGISTRY/redis:7-alpine" >/dev/null || wf_fail "service create"
	# envup's environment label, without the managed one and its proof
	swarm_docker 1 service create -d -q --name "forged-$$" --label "dev.envup.env=$n" \
		--restart-condition none "$SWARM_REGISTRY/redis:7-alpine" >/dev/null || wf_fail "service create"
	envup down --all -q >/dev/null 2>&1 || true
	envup gc -q >/dev/null 2>&1 || true
	swarm_docker 1 service inspect "foreign-$$" >/dev/null 2>&1 || wf_fail "down --all removed a foreign service"
	swarm_docker 1 service inspect "forged-$$" >/dev/null 2>&1 || wf_fail "down --all removed a forged service"
	[ "$(swarm_docker 1 service ls -q --filter "label=dev.envup.managed=true" | wc -l)" = 0 ] ||
		wf_fail "down --all left envup's own service"
	swarm_docker 1 service rm "foreign-$$" "forged-$$" >/dev/null
	wf_ok "down --all and gc removed envup's service, not the unlabelled or forged ones"
}

for c in $SW_CASES; do
	echo "== $c"
	t0=$SECONDS
	"case_$c"
	echo "== $c: $((SECONDS - t0))s"
done
