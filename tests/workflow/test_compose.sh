#!/usr/bin/env bash
# Compose files as users have them, run unchanged against the real engine:
#   1. a Go service's docker-compose.test.yml (postgres:15-alpine with a
#      pg_isready healthcheck, redis:7-alpine with redis-cli ping, a
#      MockServer with MOCKSERVER_INITIALIZATION_JSON_PATH and a
#      bind-mounted expectations directory on a fixed host port, and a
#      build: service that is not selected), brought up in one CI step and
#      used from the next; every export answers a real client (psql,
#      redis-cli, curl); envdown -f removes everything;
#   2. found without -f, as docker-compose.yml; a one-shot migration that
#      a service waits on (service_completed_successfully); a healthcheck
#      of an image envup does not know, run by envup; a named volume that
#      lives as long as the environment; .env interpolation.
. "$(dirname "$0")/lib.sh"
wf_init
command -v psql >/dev/null || wf_fail "psql is missing (postgresql-client)"
command -v curl >/dev/null || wf_fail "curl is missing"
# images as the official ones are named: ENVUP_HUB_IMAGE_PREFIX (tests/images/.env) points envup at the stand-ins

# a free port for the file's fixed "HOST:1080" (tests may run side by side)
mock_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# ---- 1. the test stack ---------------------------------------------------------
wf_dir dir
mkdir -p "$dir/testdata/mocks"
cat > "$dir/testdata/mocks/expectations.json" <<'JSON'
[{"httpRequest": {"method": "GET", "path": "/v1/rates"},
  "httpResponse": {"statusCode": 200, "body": "{\"EUR\": 1.08}"}}]
JSON
cat > "$dir/docker-compose.test.yml" <<YAML
version: "3.8"
name: gosvc-$$
services:
  postgres:
    image: postgres:15-alpine
    container_name: gosvc-test-db
    environment:
      POSTGRES_USER: gosvc
      POSTGRES_PASSWORD: gosvc-secret
      POSTGRES_DB: gosvc_test
    ports:
      - "5432"
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U gosvc -d gosvc_test"]
      interval: 5s
      timeout: 5s
      retries: 10
    restart: unless-stopped
  redis:
    image: redis:7-alpine
    ports:
      - "6379"
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 5s
  mockserver:
    image: mockserver/mockserver:5.15.0
    ports:
      - "\${MOCK_PORT}:1080"
    environment:
      MOCKSERVER_INITIALIZATION_JSON_PATH: /config/expectations.json
    volumes:
      - ./testdata/mocks:/config:ro
  app:
    build: .
    depends_on:
      postgres: {condition: service_healthy}
      redis: {condition: service_healthy}
      mockserver: {condition: service_started}
YAML
name=gosvc-$$
wf_track "$name"
# step 1 of a CI job: up, exports into a file a later step reads
(cd "$dir" && MOCK_PORT=$mock_port bash --noprofile --norc -eo pipefail -c \
	'envup up -f docker-compose.test.yml --format dotenv postgres redis mockserver > env.out 2> up.err') ||
	{ cat "$dir/up.err"; wf_fail "up of the compose test stack failed"; }
grep -q "container_name: is ignored" "$dir/up.err" || wf_fail "no notice for container_name: $(cat "$dir/up.err")"
grep -q "restart: is accepted" "$dir/up.err" || wf_fail "no notice for restart"
wf_ok "up -f docker-compose.test.yml postgres redis mockserver (build: service not selected)"
# step 2: a new shell reads the exports and uses every one
(cd "$dir" && bash --noprofile --norc -eo pipefail -c '
	set -a; . ./env.out; set +a
	[ "$(psql "$POSTGRES_URL" -Atc "select current_user || '"'"'/'"'"' || current_database()")" = gosvc/gosvc_test ]
	psql "postgres://gosvc:gosvc-secret@$POSTGRES_HOST:$POSTGRES_PORT_5432/gosvc_test?sslmode=disable" -Atc "select 1" >/dev/null
	[ "$(redis-cli -u "$REDIS_URL" ping)" = PONG ]
	[ "$(curl -fsS "$MOCKSERVER_URL/v1/rates")" = "{\"EUR\": 1.08}" ]
	[ "$MOCKSERVER_PORT" = "'"$mock_port"'" ]
') || wf_fail "the exports of the compose stack do not answer: $(cat "$dir/env.out")"
wf_ok "psql, redis-cli and curl answer through every export; the fixed host port $mock_port is honoured"
ports=$(docker inspect "envup-$name-mockserver" --format '{{json .HostConfig.PortBindings}}')
case "$ports" in *'"HostIp":"127.0.0.1","HostPort":"'"$mock_port"'"'*) ;; *) wf_fail "mockserver bindings: $ports" ;; esac
[ -z "$(docker ps -aq --filter name=gosvc-test-db)" ] || wf_fail "container_name was used"
[ -z "$(docker ps -aq --filter "label=dev.envup.env=$name" --filter "label=dev.envup.service=app")" ] ||
	wf_fail "the unselected build: service was created"
# step 3: the same file names the environment for env and envdown
(cd "$dir" && envup env -f docker-compose.test.yml > /dev/null) || wf_fail "envup env -f docker-compose.test.yml"
(cd "$dir" && envdown -f docker-compose.test.yml -q) || wf_fail "envdown -f docker-compose.test.yml"
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "envdown -f left resources"
wf_ok "envup env and envdown -f docker-compose.test.yml; nothing left"

# ---- 2. docker-compose.yml found without -f ------------------------------------------
wf_dir dir2
printf 'TAG=1.27-alpine\n' > "$dir2/.env"
cat > "$dir2/docker-compose.yml" <<YAML
name: comp2-$$
services:
  migrate:
    image: nginx:1.27-alpine
    entrypoint: ["sh", "-c", "echo migrated > /state/done"]
    volumes: [state:/state]
  web:
    image: nginx:\${TAG}
    ports: ["80"]
    volumes: [state:/usr/share/nginx/html/state:ro]
    healthcheck:
      test: ["CMD-SHELL", "test -f /usr/share/nginx/html/state/done"]
      interval: 30s
    depends_on:
      migrate:
        condition: service_completed_successfully
volumes:
  state:
YAML
name2=comp2-$$
wf_track "$name2"
out=$(cd "$dir2" && envup up 2>"$dir2/up.err") || { cat "$dir2/up.err"; wf_fail "up of docker-compose.yml failed"; }
grep -q "using docker-compose.yml" "$dir2/up.err" || wf_fail "up did not say it used docker-compose.yml"
eval "$out"
[ "$(curl -fsS "http://$WEB_HOST:$WEB_PORT/state/done")" = migrated ] || wf_fail "web does not serve what migrate wrote"
[ "$(docker volume ls -q --filter "label=dev.envup.env=$name2")" = "envup-$name2-state" ] ||
	wf_fail "the named volume is not envup-$name2-state"
wf_ok "found docker-compose.yml; migrate ran to completion before web; web's healthcheck run by envup; volume envup-$name2-state"
(cd "$dir2" && envdown -q) || wf_fail "envdown (docker-compose.yml)"
[ "$(wf_leftovers "$name2")" = 0 ] || wf_fail "envdown left the volume or more"
wf_ok "envdown removed the containers, the network and the volume"
