#!/usr/bin/env python3
"""Stand-in for mockserver/mockserver:5.15.0 used by envup's integration tests.

Standard library only. Implements the subset of the MockServer 5.15 REST API
that envup and its tests use:

  control plane (PUT, with or without the /mockserver prefix):
    /status  /expectation  /clear  /reset  /retrieve  /verify  /verifySequence  /stop
  data plane: every other request is matched against the active expectations
    (priority desc, then creation order); no match -> 404 with an empty body.

Configuration as in the real image: port from -serverPort, MOCKSERVER_SERVER_PORT
or SERVER_PORT (default 1080, comma-separated list allowed);
MOCKSERVER_INITIALIZATION_JSON_PATH (file or glob) loaded at start;
MOCKSERVER_LOG_LEVEL (TRACE|DEBUG|INFO|WARN|ERROR|OFF).
"""
import base64, datetime, glob, http.client, json, os, re, signal, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = "5.15.0"
LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"]
LOG_LEVEL = os.environ.get("MOCKSERVER_LOG_LEVEL", "INFO").upper()
ACTIONS = ["httpResponse", "httpResponseTemplate", "httpResponseClassCallback",
           "httpResponseObjectCallback", "httpForward", "httpForwardTemplate",
           "httpForwardClassCallback", "httpForwardObjectCallback",
           "httpOverrideForwardedRequest", "httpError"]
UNITS = {"NANOSECONDS": 1e-9, "MICROSECONDS": 1e-6, "MILLISECONDS": 1e-3, "SECONDS": 1,
         "MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
DOCS = ("  OpenAPI Specification: https://app.swaggerhub.com/apis/jamesdbloom/mock-server-openapi/5.15.x\n"
        "  Documentation: https://mock-server.com/mock_server/creating_expectations.html")
PORTS = []


def log(level, msg):
    if LEVELS.index(level) >= LEVELS.index(LOG_LEVEL if LOG_LEVEL in LEVELS else "INFO"):
        now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        port = PORTS[0] if PORTS else ""
        print(f"{now} {VERSION} {level} {port} {msg}", flush=True)


def pretty(obj, indent=""):
    """JSON the way MockServer (Jackson) prints it: `"key" : value`, 2-space indent."""
    text = json.dumps(obj, indent=2, separators=(",", " : "), ensure_ascii=False)
    return "\n".join(indent + line for line in text.replace("{}", "{ }").splitlines())


# ----------------------------------------------------------------------------- validation
def jtype(v):
    if isinstance(v, bool): return "boolean"
    if isinstance(v, int): return "integer"
    if isinstance(v, float): return "number"
    if isinstance(v, str): return "string"
    if isinstance(v, list): return "array"
    if v is None: return "null"
    return "object"


def check_fields(obj, path, spec, errors):
    """spec: field -> allowed type names ("any" accepts anything)."""
    if not isinstance(obj, dict):
        errors.append(f"{path}: {jtype(obj)} found, object expected")
        return
    for key, value in obj.items():
        if key not in spec:
            errors.append(f"{path}.{key}: is not defined in the schema and the schema "
                          "does not allow additional properties")
        elif spec[key] != "any" and jtype(value) not in spec[key].split("|"):
            errors.append(f"{path}.{key}: {jtype(value)} found, {spec[key].replace('|', ', ')} expected")


REQUEST_SPEC = {"method": "string|object", "path": "string|object", "pathParameters": "object|array",
                "queryStringParameters": "object|array", "headers": "object|array",
                "cookies": "object|array", "body": "any", "secure": "boolean",
                "keepAlive": "boolean", "socketAddress": "object", "protocol": "string",
                "not": "boolean", "specUrlOrPayload": "any", "operationId": "string"}
RESPONSE_SPEC = {"statusCode": "integer", "reasonPhrase": "string", "headers": "object|array",
                 "cookies": "object|array", "body": "any", "delay": "object",
                 "connectionOptions": "object", "trailers": "object|array"}
TOP_SPEC = dict({"id": "string", "priority": "integer", "httpRequest": "object", "times": "object",
                 "timeToLive": "object"}, **{a: "object" for a in ACTIONS})


def validate_expectation(exp):
    errors = []
    check_fields(exp, "$", TOP_SPEC, errors)
    if not isinstance(exp, dict):
        return errors
    if isinstance(exp.get("httpRequest"), dict):
        check_fields(exp["httpRequest"], "$.httpRequest", REQUEST_SPEC, errors)
    if isinstance(exp.get("httpResponse"), dict):
        check_fields(exp["httpResponse"], "$.httpResponse", RESPONSE_SPEC, errors)
        if isinstance(exp["httpResponse"].get("delay"), dict):
            check_fields(exp["httpResponse"]["delay"], "$.httpResponse.delay",
                         {"timeUnit": "string", "value": "integer"}, errors)
    if isinstance(exp.get("times"), dict):
        check_fields(exp["times"], "$.times", {"remainingTimes": "integer", "unlimited": "boolean"}, errors)
    if isinstance(exp.get("timeToLive"), dict):
        check_fields(exp["timeToLive"], "$.timeToLive", {"timeUnit": "string", "timeToLive": "integer",
                                                         "unlimited": "boolean", "endDate": "integer"}, errors)
    actions = [a for a in ACTIONS if a in exp]
    if len(actions) != 1:
        errors.append("$: should match exactly one of the following, but "
                      f"{'none' if not actions else ', '.join(actions)} found: [{', '.join(ACTIONS)}]")
    return errors


def format_errors(kind, body, errors):
    n = len(errors)
    lines = "\n".join(f"   - {e}" for e in errors)
    return (f"incorrect {kind} json format for:\n\n{pretty(body, '  ')}\n\n schema validation errors:\n\n"
            f"  {n} error{'s' if n != 1 else ''}:\n{lines}\n  \n{DOCS}")


# ----------------------------------------------------------------------------- matching
def nottable(value):
    """MockServer 'NottableString': "!x" or {"not": true, "value": "x"}."""
    if isinstance(value, dict):
        return str(value.get("value", "")), bool(value.get("not", False))
    value = str(value)
    if value.startswith("!") and len(value) > 1:
        return value[1:], True
    return value, False


def string_matches(expected, actual, ignore_case=False):
    exp, negate = nottable(expected)
    actual = "" if actual is None else str(actual)
    flags = re.IGNORECASE if ignore_case else 0
    ok = exp == actual or (ignore_case and exp.lower() == actual.lower())
    if not ok:
        try:
            ok = re.fullmatch(exp, actual, flags | re.DOTALL) is not None
        except re.error:
            ok = False
    return ok != negate


def multimap(value):
    """{"k": ["v"]} / {"k": "v"} / [{"name": "k", "values": ["v"]}] -> [(k, [v...])]"""
    if isinstance(value, list):
        return [(e.get("name"), e.get("values", e.get("value", []))) for e in value if isinstance(e, dict)]
    if isinstance(value, dict):
        return list(value.items())
    return []


def multimap_matches(expected, actual, ignore_case_keys):
    """Subset match: every expected key is present and every expected value matches one actual value."""
    for key, values in multimap(expected):
        name, absent = nottable(key)
        found = [v for k, vs in actual.items() if string_matches(name, k, ignore_case_keys) for v in vs]
        present = any(string_matches(name, k, ignore_case_keys) for k in actual)
        if absent:
            if present: return False
            continue
        if not present: return False
        if not isinstance(values, list): values = [values]
        for v in values:
            if not any(string_matches(v, a) for a in found):
                return False
    return True


def json_matches(expected, actual, strict):
    if strict:
        return expected == actual
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and json_matches(v, actual[k], False) for k, v in expected.items())
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        remaining = list(actual)
        for e in expected:
            hit = next((i for i, a in enumerate(remaining) if json_matches(e, a, False)), None)
            if hit is None: return False
            remaining.pop(hit)
        return True
    return expected == actual


def body_text(req):
    return req["_raw"].decode("utf-8", "replace")


def body_matches(expected, req):
    text = body_text(req)
    if isinstance(expected, str):
        return expected == text
    if isinstance(expected, list):
        expected = {"type": "JSON", "json": expected}
    if not isinstance(expected, dict):
        return False
    kind = expected.get("type")
    if kind is None or kind not in ("STRING", "JSON", "REGEX", "BINARY", "PARAMETERS",
                                     "JSON_SCHEMA", "JSON_PATH", "XML", "XPATH", "XML_SCHEMA"):
        expected, kind = {"type": "JSON", "json": expected}, "JSON"
    if kind == "STRING":
        want = expected.get("string", "")
        ok = want in text if expected.get("subString") else want == text
    elif kind == "REGEX":
        ok = re.fullmatch(expected.get("regex", ""), text, re.DOTALL) is not None
    elif kind == "JSON":
        want = expected.get("json")
        try:
            want = json.loads(want) if isinstance(want, str) else want
            got = json.loads(text)
        except ValueError:
            return False
        ok = json_matches(want, got, expected.get("matchType") == "STRICT")
    elif kind == "BINARY":
        ok = base64.b64decode(expected.get("base64Bytes", "")) == req["_raw"]
    elif kind == "PARAMETERS":
        form = {k: v for k, v in parse_qs(text, keep_blank_values=True).items()}
        ok = multimap_matches(expected.get("parameters", {}), form, False)
    else:
        log("WARN", f"body matcher type {kind} is not supported by this stand-in")
        ok = False
    return ok != bool(expected.get("not", False))


def request_matches(matcher, req):
    if not matcher:
        return True
    ok = True
    if "method" in matcher: ok = ok and string_matches(matcher["method"], req["method"], True)
    if "path" in matcher: ok = ok and string_matches(matcher["path"], req["path"])
    if "queryStringParameters" in matcher:
        ok = ok and multimap_matches(matcher["queryStringParameters"], req["_query"], False)
    if "headers" in matcher: ok = ok and multimap_matches(matcher["headers"], req["_headers"], True)
    if "cookies" in matcher:
        ok = ok and multimap_matches(matcher["cookies"], {k: [v] for k, v in req["_cookies"].items()}, False)
    if "body" in matcher: ok = ok and body_matches(matcher["body"], req)
    if "secure" in matcher: ok = ok and matcher["secure"] is False
    return ok != bool(matcher.get("not", False))


# ----------------------------------------------------------------------------- state
class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.expectations = []  # dicts, each with "_created" and "_expires"
        self.log = []           # [{"httpRequest": rec, "httpResponse": resp|None, "timestamp": ..}]
        self.seq = 0

    def upsert(self, exp):
        exp = dict(exp)
        exp.setdefault("id", str(uuid.uuid4()))
        exp.setdefault("priority", 0)
        exp.setdefault("httpRequest", {})
        exp.setdefault("times", {"unlimited": True})
        exp.setdefault("timeToLive", {"unlimited": True})
        ttl = exp["timeToLive"]
        exp["_expires"] = None if ttl.get("unlimited", not ttl.get("timeToLive")) else \
            time.time() + ttl.get("timeToLive", 0) * UNITS.get(ttl.get("timeUnit", "SECONDS"), 1)
        with self.lock:
            self.seq += 1
            exp["_created"] = self.seq
            for i, old in enumerate(self.expectations):
                if old["id"] == exp["id"]:
                    exp["_created"] = old["_created"]
                    self.expectations[i] = exp
                    break
            else:
                self.expectations.append(exp)
        log("INFO", f"creating expectation:\n\n{pretty(public(exp), '  ')}\n")
        return public(exp)

    def active(self):
        with self.lock:
            now = time.time()
            self.expectations = [e for e in self.expectations
                                 if (e["_expires"] is None or e["_expires"] > now)
                                 and (e["times"].get("unlimited", "remainingTimes" not in e["times"])
                                      or e["times"].get("remainingTimes", 0) > 0)]
            return sorted(self.expectations, key=lambda e: (-e["priority"], e["_created"]))

    def take(self, req):
        """Find the expectation for req and consume one of its remaining times."""
        with self.lock:
            for exp in self.active():
                if request_matches(exp["httpRequest"], req):
                    times = exp["times"]
                    if not times.get("unlimited", "remainingTimes" not in times):
                        times["remainingTimes"] -= 1
                    return exp
        return None


def public(exp):
    return {k: v for k, v in exp.items() if not k.startswith("_")}


STATE = State()


# ----------------------------------------------------------------------------- HTTP
def parse_json(raw):
    return json.loads(raw.decode("utf-8")) if raw.strip() else None


def build_response(resp):
    status = resp.get("statusCode", 200)
    headers = [(k, v) for k, vs in multimap(resp.get("headers"))
               for v in (vs if isinstance(vs, list) else [vs])]
    names = {k.lower() for k, _ in headers}
    body = resp.get("body")
    ctype = None
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode()
    elif isinstance(body, dict) and body.get("type") in ("STRING", "JSON", "BINARY", "XML"):
        t = body["type"]
        if t == "BINARY":
            data = base64.b64decode(body.get("base64Bytes", ""))
        elif t == "JSON":
            j = body.get("json")
            data = (j if isinstance(j, str) else json.dumps(j)).encode()
            ctype = "application/json"
        else:
            data = str(body.get(t.lower(), "")).encode()
        ctype = body.get("contentType", ctype)
    else:  # raw JSON object / array
        data = json.dumps(body).encode()
        ctype = "application/json"
    if ctype and "content-type" not in names:
        headers.append(("Content-Type", ctype))
    for k, v in multimap(resp.get("cookies")):
        headers.append(("Set-Cookie", f"{k}={v[0] if isinstance(v, list) else v}"))
    return status, resp.get("reasonPhrase"), headers, data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MockServer-standin"

    def log_message(self, fmt, *args):  # http.server's own access log: only at DEBUG
        log("DEBUG", fmt % args)

    def __getattr__(self, name):  # do_GET, do_PUT, do_ANYTHING ...
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def send(self, status, data=b"", ctype=None, headers=(), reason=None):
        self.log_request(status)
        self.send_response_only(status, reason)  # no Server/Date headers, like MockServer
        for k, v in headers:
            if k.lower() not in ("content-length", "connection"):
                self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "keep-alive")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj, indent=2).encode(), "application/json; charset=utf-8")

    def send_text(self, status, text):
        self.send(status, text.encode(), "text/plain; charset=utf-8")

    def record(self, raw):
        url = urlsplit(self.path)
        headers = {}
        for k, v in self.headers.items():
            headers.setdefault(k, []).append(v)
        cookies = {}
        for part in self.headers.get("Cookie", "").split(";"):
            if "=" in part:
                k, v = part.strip().split("=", 1)
                cookies[k] = v
        req = {"method": self.command, "path": url.path, "_raw": raw, "_headers": headers,
               "_query": parse_qs(url.query, keep_blank_values=True), "_cookies": cookies}
        rec = {"method": self.command, "path": url.path, "headers": headers,
               "keepAlive": True, "secure": False}
        if req["_query"]: rec["queryStringParameters"] = req["_query"]
        if cookies: rec["cookies"] = cookies
        if raw:
            text = raw.decode("utf-8", "replace")
            if "json" in self.headers.get("Content-Type", ""):
                try: rec["body"] = {"type": "JSON", "json": json.loads(text), "rawBytes": base64.b64encode(raw).decode()}
                except ValueError: rec["body"] = text
            else:
                rec["body"] = text
        req["_record"] = rec
        return req

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def dispatch(self):
        raw = self.read_body()
        req = self.record(raw)
        path = req["path"][len("/mockserver"):] if req["path"].startswith("/mockserver/") else req["path"]
        if self.command == "PUT" and path in CONTROL:
            try:
                return CONTROL[path](self, req, raw)
            except (ValueError, TypeError, AttributeError, KeyError) as e:  # bad JSON or wrong shape
                return self.send_text(400, f"incorrect json format for:\n\n  {raw.decode('utf-8', 'replace')}\n\n {e}")
        self.serve_mock(req)

    # --- control plane ---
    def c_status(self, req, raw):
        self.send_json(200, {"ports": PORTS})

    def c_expectation(self, req, raw):
        body = parse_json(raw)
        if body is None:
            return self.send_text(400, "1 error:\n - an expectation or expectation array is required "
                                       "but value was \"\"")
        items = body if isinstance(body, list) else [body]
        for item in items:
            errors = validate_expectation(item)
            if errors:
                log("ERROR", f"incorrect expectation json format: {errors}")
                return self.send_text(400, format_errors("expectation", item, errors))
        self.send_json(201, [STATE.upsert(item) for item in items])

    def c_clear(self, req, raw):
        what = (self.query().get("type") or "all").lower()
        body = parse_json(raw) or {}
        with STATE.lock:
            if what in ("all", "expectations"):
                if "id" in body and "httpRequest" not in body and "path" not in body:
                    STATE.expectations = [e for e in STATE.expectations if e["id"] != body["id"]]
                elif body:
                    STATE.expectations = [e for e in STATE.expectations
                                          if e["httpRequest"] != body and not request_matches(
                                              body, fake_request(e["httpRequest"]))]
                else:
                    STATE.expectations = []
            if what in ("all", "log"):
                STATE.log = [e for e in STATE.log if body and (
                    "id" in body or not request_matches(body, e["_req"]))]
        log("INFO", f"clearing {what} that match:\n\n{pretty(body, '  ')}\n")
        self.send(200)

    def c_reset(self, req, raw):
        with STATE.lock:
            STATE.expectations, STATE.log = [], []
        log("INFO", "resetting all expectations and request logs")
        self.send(200)

    def query(self):
        return {k.lower(): v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def c_retrieve(self, req, raw):
        q = self.query()
        kind = q.get("type", "REQUESTS").upper()
        matcher = parse_json(raw) or {}
        with STATE.lock:
            entries = [e for e in STATE.log if request_matches(matcher, e["_req"])]
            if kind == "REQUESTS":
                result = [e["httpRequest"] for e in entries]
            elif kind == "REQUEST_RESPONSES":
                result = [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries]
            elif kind == "ACTIVE_EXPECTATIONS":
                result = [public(e) for e in STATE.active()
                          if not matcher or request_matches(matcher, fake_request(e["httpRequest"]))]
            elif kind == "RECORDED_EXPECTATIONS":
                result = []
            elif kind == "LOGS":
                sep = "\n------------------------------------\n"
                return self.send_text(200, sep.join(f"{e['timestamp']} - received request:\n\n"
                                                    f"{pretty(e['httpRequest'], '  ')}\n" for e in entries))
            else:
                return self.send_text(400, f"\"{q.get('type')}\" is not a valid value for \"type\" "
                                           "parameter, only the following values are supported [LOGS, "
                                           "REQUESTS, REQUEST_RESPONSES, RECORDED_EXPECTATIONS, ACTIVE_EXPECTATIONS]")
        self.send_json(200, result)

    def c_verify(self, req, raw):
        body = parse_json(raw)
        if not isinstance(body, dict) or not ("httpRequest" in body or "expectationId" in body):
            return self.send_text(400, format_errors("verification", body, [
                "$.httpRequest: is missing, but is required, if specifying expectationId"]))
        times = body.get("times") or {"atLeast": 1}
        lo, hi = times.get("atLeast", -1), times.get("atMost", -1)
        with STATE.lock:
            if "expectationId" in body:
                eid = body["expectationId"].get("id")
                matched = [e for e in STATE.log if e.get("_expectation") == eid]
                matcher = {"expectationId": eid}
            else:
                matcher = body["httpRequest"]
                matched = [e for e in STATE.log if request_matches(matcher, e["_req"])]
            everything = [e["httpRequest"] for e in STATE.log]
        n = len(matched)
        if (lo == -1 or n >= lo) and (hi == -1 or n <= hi):
            return self.send(202)
        self.send_text(406, f"Request not found {times_text(lo, hi)}, expected:<{pretty(matcher)}> "
                            f"but was:<{', '.join(pretty(r) for r in everything)}>")

    def c_verify_sequence(self, req, raw):
        body = parse_json(raw) or {}
        wanted = body.get("httpRequests", [])
        with STATE.lock:
            reqs = [e["_req"] for e in STATE.log]
            everything = [e["httpRequest"] for e in STATE.log]
        i = 0
        for r in reqs:
            if i < len(wanted) and request_matches(wanted[i], r):
                i += 1
        if i == len(wanted):
            return self.send(202)
        self.send_text(406, f"Request sequence not found, expected:<{pretty(wanted)}> but was:<"
                            f"{', '.join(pretty(r) for r in everything)}>")

    def c_stop(self, req, raw):
        self.send(200)
        log("INFO", "stopped for port" + (f": {PORTS[0]}" if len(PORTS) == 1 else f"s: {PORTS}"))
        threading.Thread(target=lambda: (time.sleep(0.2), os._exit(0))).start()

    # --- data plane ---
    def serve_mock(self, req):
        exp = STATE.take(req)
        entry = {"httpRequest": req["_record"], "timestamp": datetime.datetime.now().isoformat(),
                 "_req": req, "_expectation": exp["id"] if exp else None}
        with STATE.lock:
            STATE.log.append(entry)
        if exp is None:
            log("INFO", f"no expectation for:\n\n{pretty(req['_record'], '  ')}\n\n returning response:\n\n"
                        f"  {{\n    \"statusCode\" : 404,\n    \"reasonPhrase\" : \"Not Found\"\n  }}\n")
            entry["httpResponse"] = {"statusCode": 404, "reasonPhrase": "Not Found"}
            return self.send(404)
        if "httpResponse" in exp:
            resp = exp["httpResponse"]
            delay = resp.get("delay")
            if delay:
                time.sleep(delay.get("value", 0) * UNITS.get(delay.get("timeUnit", "MILLISECONDS"), 1e-3))
            entry["httpResponse"] = resp
            status, reason, headers, data = build_response(resp)
            log("INFO", f"returning response:\n\n{pretty(resp, '  ')}\n\n for request:\n\n"
                        f"{pretty(req['_record'], '  ')}\n\n for action:\n\n{pretty(resp, '  ')}\n")
            return self.send(status, data, None, headers, reason)
        if "httpError" in exp:
            err = exp["httpError"]
            if err.get("responseBytes"):
                self.wfile.write(base64.b64decode(err["responseBytes"]))
            self.close_connection = True
            return
        if "httpForward" in exp:
            return self.forward(exp["httpForward"], req)
        log("WARN", f"action {[a for a in ACTIONS if a in exp]} is not supported by this stand-in")
        self.send(404)

    def forward(self, fwd, req):
        cls = http.client.HTTPSConnection if fwd.get("scheme") == "HTTPS" else http.client.HTTPConnection
        conn = cls(fwd.get("host", "localhost"), fwd.get("port", 80), timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        conn.request(self.command, self.path, body=req["_raw"] or None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.send(r.status, data, None, [(k, v) for k, v in r.getheaders()
                                          if k.lower() != "transfer-encoding"], r.reason)


def fake_request(matcher):
    """Turn an expectation's request matcher into a request-like dict (used by clear/retrieve)."""
    def plain(v):
        return nottable(v)[0] if v is not None else None
    return {"method": plain(matcher.get("method")) or "", "path": plain(matcher.get("path")) or "",
            "_raw": b"", "_cookies": {}, "_query": {k: [plain(x) for x in (v if isinstance(v, list) else [v])]
                                                    for k, v in multimap(matcher.get("queryStringParameters"))},
            "_headers": {k: [plain(x) for x in (v if isinstance(v, list) else [v])]
                         for k, v in multimap(matcher.get("headers"))}}


def times_text(lo, hi):
    def n(x): return "once" if x == 1 else f"{x} times"
    if lo == hi: return f"exactly {n(lo)}"
    if hi == -1: return f"at least {n(lo)}"
    if lo in (-1, 0): return f"at most {n(hi)}"
    return f"between {lo} and {hi} times"


CONTROL = {"/status": Handler.c_status, "/expectation": Handler.c_expectation, "/clear": Handler.c_clear,
           "/reset": Handler.c_reset, "/retrieve": Handler.c_retrieve, "/verify": Handler.c_verify,
           "/verifySequence": Handler.c_verify_sequence, "/stop": Handler.c_stop}


def load_initialization(pattern):
    for path in sorted(glob.glob(pattern)) or [pattern]:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            items = data if isinstance(data, list) else [data]
            for item in items:
                errors = validate_expectation(item)
                if errors:
                    raise ValueError(format_errors("expectation", item, errors))
            for item in items:
                STATE.upsert(item)
        except (OSError, ValueError) as e:
            log("ERROR", f"exception while loading JSON initialization file {path}: {e}")


def main(argv):
    ports = os.environ.get("MOCKSERVER_SERVER_PORT") or os.environ.get("SERVER_PORT") or "1080"
    for i, arg in enumerate(argv):
        if arg in ("-serverPort", "--serverPort") and i + 1 < len(argv):
            ports = argv[i + 1]
        if arg in ("-logLevel", "--logLevel") and i + 1 < len(argv):
            global LOG_LEVEL
            LOG_LEVEL = argv[i + 1].upper()
    # PID 1 in a container gets no default SIGTERM handling: exit like the JVM does.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    servers = []
    for port in [int(p) for p in str(ports).split(",") if p.strip()]:
        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.daemon_threads = True
        srv = ThreadingHTTPServer((os.environ.get("MOCKSERVER_LOCAL_BOUND_IP", "0.0.0.0"), port), Handler)
        PORTS.append(srv.server_address[1])
        servers.append(srv)
    if os.environ.get("MOCKSERVER_INITIALIZATION_JSON_PATH"):
        load_initialization(os.environ["MOCKSERVER_INITIALIZATION_JSON_PATH"])
    for srv in servers[1:]:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    log("INFO", "started on port" + (f": {PORTS[0]}" if len(PORTS) == 1 else f"s: {PORTS}"))
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
