#!/usr/bin/env python3
"""Self-test for the MockServer stand-in (mockserver.py).

Runs the server on a free loopback port (or tests an already running one when
given a base URL, e.g. `selftest.py http://127.0.0.1:1080`) and exercises the
control plane and the data plane. Prints one line per check and a closing
"N passed, N failed" line; exits non-zero on any failure.
"""
import json, os, socket, subprocess, sys, time, urllib.error, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def call(base, method, path, body=None, headers=None):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def run(base):
    s, _, b = call(base, "PUT", "/mockserver/status")
    check("status 200 with ports", s == 200 and "ports" in json.loads(b), f"{s} {b}")
    s, _, _ = call(base, "GET", "/mockserver/status")
    check("GET status is data plane (404)", s == 404, s)
    s, _, _ = call(base, "PUT", "/reset")
    check("reset without prefix 200", s == 200, s)

    exp = {"httpRequest": {"method": "GET", "path": "/api/users/[0-9]+",
                           "queryStringParameters": {"page": ["1"]},
                           "headers": {"accept": ["application/json"]}},
           "httpResponse": {"statusCode": 200, "headers": {"X-Test": ["yes"]},
                            "body": {"users": [1, 2]}},
           "times": {"remainingTimes": 2, "unlimited": False}}
    s, _, b = call(base, "PUT", "/mockserver/expectation", exp)
    created = json.loads(b) if s == 201 else []
    check("valid expectation 201 + array with id", s == 201 and isinstance(created, list)
          and created[0].get("id"), f"{s} {b}")

    bad = {"httpRequest": {"paths": "/x"}, "httpResponse": {"statusCode": "abc"}}
    s, h, b = call(base, "PUT", "/mockserver/expectation", bad)
    check("invalid expectation 400 text/plain", s == 400 and h.get("Content-Type", "").startswith("text/plain")
          and b.startswith("incorrect expectation json format for:")
          and "$.httpRequest.paths: is not defined in the schema" in b
          and "$.httpResponse.statusCode: string found, integer expected" in b
          and "2 errors:" in b, f"{s} {b}")
    s, _, b = call(base, "PUT", "/mockserver/expectation", {"httpRequest": {"path": "/x"}})
    check("expectation without action 400", s == 400, f"{s} {b}")
    s, _, b = call(base, "PUT", "/mockserver/expectation", b"{not json")
    check("malformed json 400", s == 400, f"{s} {b}")

    hdr = {"Accept": "application/json"}
    s, h, b = call(base, "GET", "/api/users/42?page=1", headers=hdr)
    check("matched request returns mocked response", s == 200 and json.loads(b) == {"users": [1, 2]}
          and h.get("X-Test") == "yes" and h.get("Content-Type", "").startswith("application/json"),
          f"{s} {h} {b}")
    s, _, b = call(base, "GET", "/api/users/42?page=2", headers=hdr)
    check("query mismatch 404 empty body", s == 404 and b == "", f"{s} {b}")
    s, _, _ = call(base, "GET", "/api/users/abc?page=1", headers=hdr)
    check("regex path mismatch 404", s == 404, s)
    s, _, _ = call(base, "GET", "/api/users/7?page=1", headers=hdr)
    check("second use still matches", s == 200, s)
    s, _, _ = call(base, "GET", "/api/users/7?page=1", headers=hdr)
    check("remainingTimes exhausted -> 404", s == 404, s)

    # JSON body matching (ONLY_MATCHING_FIELDS) and priorities
    call(base, "PUT", "/mockserver/expectation", [
        {"httpRequest": {"method": "POST", "path": "/orders", "body": {"type": "JSON", "json": {"kind": "a"}}},
         "httpResponse": {"statusCode": 201, "body": "created-a"}},
        {"priority": 10, "httpRequest": {"method": "post", "path": "/orders",
                                         "body": {"type": "STRING", "string": "urgent", "subString": True}},
         "httpResponse": {"statusCode": 202, "reasonPhrase": "Accepted", "body": "urgent"}},
    ])
    s, _, b = call(base, "POST", "/orders", {"kind": "a", "extra": 1}, {"Content-Type": "application/json"})
    check("JSON subset body match", s == 201 and b == "created-a", f"{s} {b}")
    s, _, b = call(base, "POST", "/orders", {"kind": "urgent"}, {"Content-Type": "application/json"})
    check("priority wins", s == 202 and b == "urgent", f"{s} {b}")
    s, _, _ = call(base, "POST", "/orders", {"kind": "b"}, {"Content-Type": "application/json"})
    check("JSON body mismatch 404", s == 404, s)

    s, _, _ = call(base, "PUT", "/mockserver/verify",
                   {"httpRequest": {"method": "POST", "path": "/orders"}, "times": {"atLeast": 3, "atMost": 3}})
    check("verify exact count 202", s == 202, s)
    s, h, b = call(base, "PUT", "/mockserver/verify", {"httpRequest": {"path": "/never"}, "times": {"atLeast": 1}})
    check("verify missing 406 'Request not found'", s == 406 and b.startswith("Request not found at least once"),
          f"{s} {b[:80]}")
    s, _, _ = call(base, "PUT", "/mockserver/verifySequence",
                   {"httpRequests": [{"path": "/api/users/42"}, {"path": "/orders"}]})
    check("verifySequence 202", s == 202, s)

    s, _, b = call(base, "PUT", "/mockserver/retrieve?type=REQUESTS&format=JSON", {"path": "/orders"})
    check("retrieve requests", s == 200 and len(json.loads(b)) == 3, f"{s} {b[:80]}")
    s, _, b = call(base, "PUT", "/mockserver/retrieve?type=active_expectations")
    check("retrieve active expectations", s == 200 and len(json.loads(b)) == 2, f"{s} {b[:80]}")
    s, _, b = call(base, "PUT", "/mockserver/retrieve?type=REQUEST_RESPONSES")
    rr = json.loads(b)
    check("retrieve request/responses", s == 200 and rr and "httpResponse" in rr[0], f"{s} {b[:80]}")
    s, _, _ = call(base, "PUT", "/mockserver/clear?type=expectations", {"path": "/orders"})
    s2, _, b = call(base, "PUT", "/mockserver/retrieve?type=ACTIVE_EXPECTATIONS")
    check("clear by matcher", s == 200 and json.loads(b) == [], f"{s} {b[:80]}")
    s, _, _ = call(base, "PUT", "/mockserver/clear")
    s2, _, b = call(base, "PUT", "/mockserver/retrieve")
    check("clear all empties the log", s == 200 and json.loads(b) == [], f"{s} {b[:80]}")


def main():
    if len(sys.argv) > 1:
        run(sys.argv[1].rstrip("/"))
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        init = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"mockserver-selftest-{os.getpid()}.json")
        with open(init, "w") as f:
            json.dump([{"httpRequest": {"path": "/init"}, "httpResponse": {"body": "from-init"}}], f)
        env = dict(os.environ, MOCKSERVER_SERVER_PORT=str(port), MOCKSERVER_INITIALIZATION_JSON_PATH=init,
                   MOCKSERVER_LOCAL_BOUND_IP="127.0.0.1", MOCKSERVER_LOG_LEVEL="WARN")
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "mockserver.py")], env=env,
                                stdout=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if call(base, "PUT", "/status")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            s, _, b = call(base, "GET", "/init")
            check("initialization json loaded", s == 200 and b == "from-init", f"{s} {b}")
            run(base)
        finally:
            proc.terminate()
            proc.wait(5)
            os.unlink(init)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
