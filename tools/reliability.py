#!/usr/bin/python3
"""The long fault suite: runs the real `streamvision` service and CLI against real servers and writes RELIABILITY.md.

    /usr/bin/python3 tools/reliability.py [--quick] [--out RELIABILITY.md]

Needs a Release build (./streamvision setup), ffmpeg/ffprobe, mosquitto + mosquitto-clients, gst-rtsp-server
(tests/Ingest/rtsp_server.py, run with /usr/bin/python3). Sections:

  rtsp     an RTSP camera killed (SIGKILL) and restarted N times: seconds from restart to frames flowing again
           (median, worst), frames dropped at each reconnect
  broker   mosquitto stopped for a while under a live stream with an MQTT sink: events produced, delivered (received by
           mosquitto_sub), dropped and counted (the sink's overflow), and whether produced = delivered + dropped
  sigkill  `streamvision run` killed with SIGKILL mid-write: frames written (API) vs frames that decode from the killed
           MP4, in seconds of video lost
  corpus   hostile media made here through `probe` and `annotate`: exit codes and first error lines (never a crash or hang)
  api      hostile requests against `streamvision run` on loopback, without and with `http.token`: paths out of the
           output root, a foreign file overwritten, targets off `http.allowed_targets`, 8 concurrent 25 MB bodies,
           a burst of changes beyond `http.changes_per_minute`, missing and wrong tokens, 90 add/delete cycles; the
           status codes, RSS before/after and /metrics series before/after
  soak     four live streams for 30 minutes: RSS, threads, handles, GC heap, native heap (in use, free, mmap, arenas) and
           native objects by kind every 15 s, slopes over the last 20 minutes

Timings depend on the machine's load; the figures say what they were measured with.
"""
import argparse
import http.client
import threading
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "src", "App", "bin", "Release", "net10.0", "streamvision.dll")
RTSP_SERVER = os.path.join(ROOT, "tests", "Ingest", "rtsp_server.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-nostdin", *args], check=True)


def decoded_frames(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                        "stream=nb_read_frames", "-of", "csv=p=0", path], capture_output=True, text=True)
    try:
        return int(r.stdout.strip().rstrip(","))
    except ValueError:
        return 0


def wait_until(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise TimeoutError(what)


class Service:
    """`streamvision run` with a generated configuration; the API answers on a free port."""

    def __init__(self, work, yaml_body):
        self.port = free_port()
        self.config = os.path.join(work, f"run-{self.port}.yaml")
        with open(self.config, "w") as f:
            f.write(f"http:\n  listen: http://127.0.0.1:{self.port}\n{yaml_body}")
        self.log = open(os.path.join(work, f"run-{self.port}.log"), "w")
        # As ./streamvision run and the container image start it: glibc's malloc arenas capped from the first allocation.
        env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
        self.proc = subprocess.Popen(["dotnet", APP, "run", "-c", self.config], stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def streams(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/streams", timeout=5) as r:
                return json.load(r)
        except OSError:
            return None

    def stream(self):
        s = self.streams()
        return s[0] if s else None

    def sink(self, name):
        s = self.stream()
        if not s:
            return None
        return next((k for k in s["sinks"] if k["name"] == name), None)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def rtsp_server(clip, port):
    p = subprocess.Popen(["/usr/bin/python3", RTSP_SERVER, "--port", str(port), "--file", clip], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line.startswith("READY"):
        p.kill()
        raise RuntimeError("rtsp_server.py did not start")
    return p


def section_rtsp(work, kills):
    clip = os.path.join(work, "camera.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "250", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-x264-params", "repeat-headers=1", "-g", "25", clip)
    port = free_port()
    server = rtsp_server(clip, port)
    svc = Service(work, f"""detector:
  model: motion
streams:
  - id: cam
    uri: rtsp://127.0.0.1:{port}/cam
    reconnect_initial_seconds: 0.2
    reconnect_max_seconds: 1
""")
    resume, drops = [], []
    try:
        wait_until(lambda: (svc.stream() or {}).get("frames", 0) > 50, 120, "RTSP frames")
        for _ in range(kills):
            before = svc.stream()
            server.kill()
            server.wait()
            wait_until(lambda: (svc.stream() or {}).get("source_state") in ("backoff", "connecting"), 30, "the kill noticed")
            dropped_before = svc.stream()["source_drops"]
            server = rtsp_server(clip, port)
            t0 = time.monotonic()
            frames0 = svc.stream()["frames"]
            wait_until(lambda: (svc.stream() or {}).get("frames", 0) > frames0 + 5, 60, "frames after the restart")
            resume.append(time.monotonic() - t0)
            time.sleep(2)  # let the connect burst pass before counting its drops
            drops.append(svc.stream()["source_drops"] - dropped_before)
    finally:
        svc.stop()
        server.kill()
    return {"kills": kills, "resume": resume, "drops": drops}


def section_broker(work, outage, buffer):
    """A finite real-time stream (a paced test source read as a file, ending after outage + 40 s) with an MQTT sink; the broker is stopped for
    `outage` seconds in the middle. The observer keeps a persistent QoS 1 session on a broker with persistence, so what
    the sink delivers after the restart reaches it even before it has reconnected. At the end (stream ended, sink
    drained): produced (the stream's events), delivered and dropped (the sink's counts), received (mosquitto_sub)."""
    port = free_port()
    bdir = os.path.join(work, "broker")
    os.makedirs(bdir, exist_ok=True)
    conf = os.path.join(bdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {bdir}/\n"
                f"max_queued_messages 0\nuser root\nlog_dest file {bdir}/broker.log\n")

    def start_broker():
        p = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 30, "mosquitto listening")
        return p

    broker = start_broker()
    received = os.path.join(bdir, "received.txt")
    sub_log = open(received, "w")
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-c", "-i", "reliability-observer",
                            "-t", "streamvision/+/+/events"], stdout=sub_log, stderr=subprocess.DEVNULL)
    seconds = outage + 40
    svc = Service(work, f"""instance: rel
detector:
  model: motion
sinks:
  mqtt:
    host: 127.0.0.1
    port: {port}
    qos: 1
    buffer: {buffer}
    reconnect_delay_seconds: 0.5
    max_reconnect_delay_seconds: 2
streams:
  - id: cam
    uri: "lavfi:testsrc2=size=320x240:rate=25:duration={seconds},realtime"
    mode: file
""")
    states, warnings = set(), 0
    try:
        wait_until(lambda: (svc.sink("mqtt") or {}).get("state") == "connected" and (svc.stream() or {}).get("events", 0) > 0, 120,
                   "events flowing")
        time.sleep(10)
        broker.send_signal(signal.SIGTERM)
        broker.wait()
        t0 = time.monotonic()
        while time.monotonic() - t0 < outage:
            k = svc.sink("mqtt")
            if k:
                states.add(k["state"])
            time.sleep(0.5)
        broker = start_broker()
        wait_until(lambda: (svc.sink("mqtt") or {}).get("state") == "connected", 60, "reconnected")
        wait_until(lambda: (svc.stream() or {}).get("status") in ("ended", "stopped", "failed"), seconds + 120, "the stream's end")
        wait_until(lambda: (svc.sink("mqtt") or {}).get("events_buffered") == 0, 60, "the sink drained")
        final = svc.stream()
        k = svc.sink("mqtt")
        time.sleep(3)  # the observer's last acknowledgements
    finally:
        code = svc.stop()
        sub.kill()
        sub.wait()
        sub_log.close()
        broker.send_signal(signal.SIGTERM)
        broker.wait()
    with open(os.path.join(work, f"run-{svc.port}.log")) as f:
        for line in f:
            if "warn" in line.lower() and "mqtt" in line.lower():
                warnings += 1
    with open(received) as f:
        got = sum(1 for line in f if line.strip())
    return {"outage": outage, "buffer": buffer, "states": sorted(states), "produced": final["events"],
            "delivered": k["events_delivered"], "dropped": k["events_dropped"], "received": got, "exit": code,
            "warnings": warnings}


def section_sigkill(work, runs, seconds):
    out = []
    for i in range(runs):
        d = os.path.join(work, f"kill{i}")
        os.makedirs(d, exist_ok=True)
        svc = Service(work, f"""detector:
  model: motion
sinks:
  video:
    path: {d}/{{stream}}.mp4
    preset: ultrafast
  events: {d}/{{stream}}.jsonl
  tracks: {d}/{{stream}}.txt
streams:
  - id: cam
    uri: "lavfi:testsrc2=size=320x240:rate=25"
    mode: live
""")
        wait_until(lambda: ((svc.sink("video") or {}).get("written", 0)) >= seconds * 25, 180, "frames written")
        written = svc.sink("video")["written"]
        svc.stop(signal.SIGKILL)
        decoded = decoded_frames(os.path.join(d, "cam.mp4"))
        torn = 0
        for name in ("cam.jsonl", "cam.txt"):
            p = os.path.join(d, name)
            if os.path.exists(p) and os.path.getsize(p) > 0:
                with open(p, "rb") as f:
                    data = f.read()
                torn += 0 if data.endswith(b"\n") else 1
                if name.endswith(".jsonl"):
                    for line in data.splitlines():
                        try:
                            json.loads(line)
                        except ValueError:
                            torn += 1
        out.append({"written": written, "decoded": decoded, "lost_s": max(0, written - decoded) / 25, "torn": torn})
    return out


def section_corpus(work):
    d = os.path.join(work, "corpus")
    os.makedirs(d, exist_ok=True)
    good = os.path.join(d, "good.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "50", "-c:v", "libx264", "-preset", "ultrafast", good)
    fast = os.path.join(d, "faststart.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "50", "-c:v", "libx264", "-preset", "ultrafast",
           "-movflags", "+faststart", fast)
    hevc = os.path.join(d, "hevc.mkv")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "20", "-c:v", "libx265", "-preset", "ultrafast",
           "-x265-params", "log-level=error", hevc)
    png = os.path.join(d, "one.png")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", png)
    audio = os.path.join(d, "audio.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", audio)
    rng = random.Random(14)
    data = open(good, "rb").read()
    fs = open(fast, "rb").read()
    corpus = {
        "truncated.mp4": data[: len(data) * 2 // 5],
        "truncated-tail.mp4": fs[: len(fs) * 2 // 3],
        "random.mp4": bytes(rng.getrandbits(8) for _ in range(64 * 1024)),
        "zero-length.mp4": b"",
        "hevc-named.mp4": open(hevc, "rb").read(),
        "png-named.mp4": open(png, "rb").read(),
        "text-named.mkv": b"this is not a video\n",
        "audio-only.mp4": open(audio, "rb").read(),
        "huge-dimensions.y4m": b"YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(4096),
    }
    for n in range(5):
        b = bytearray(data)
        for _ in range(100 * (n + 1)):
            i = len(b) // 10 + rng.randrange(len(b) * 8 // 10)
            b[i] ^= 1 << rng.randrange(8)
        corpus[f"bitflipped-{n}.mp4"] = bytes(b)
    rows = []
    for name, content in corpus.items():
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(content)
        row = {"file": name}
        for cmd in (["probe", p], ["annotate", p, "-o", p + ".out.mp4", "-m", "motion", "--preset", "ultrafast"]):
            t0 = time.monotonic()
            try:
                r = subprocess.run(["dotnet", APP, *cmd], capture_output=True, text=True, timeout=300)
                code = r.returncode
                # Our own line (the summary or the error, prefixed with the verb), not FFmpeg's decoder chatter.
                lines = r.stdout.strip().splitlines() + r.stderr.strip().splitlines()
                ours = [x for x in lines if x.startswith(cmd[0] + ":") or x.startswith("first frame")]
                msg = (ours or lines or [""])[-1]
            except subprocess.TimeoutExpired:
                code, msg = "hang", "no answer within 300 s"
            row[cmd[0]] = (code, msg[:140].replace("|", "/").replace(d + "/", ""), time.monotonic() - t0)
        rows.append(row)
    return rows


API_TOKEN = "reliability-token-0123456789abcdef"


def api_call(port, method, path, body=None, token=None, timeout=60):
    """One request: (status, headers) — status None when the connection was reset before an answer."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        c.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status, dict(r.getheaders())
    except (ConnectionError, http.client.HTTPException, OSError):
        return None, {}
    finally:
        c.close()


def big_body(port, size, chunked, token=None):
    """A JSON body of `size` bytes (one huge string) sent with Content-Length or chunked; the status, or 'reset' when the
    server answered and closed while the client was still sending (it refuses before reading)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    piece = b"a" * (64 * 1024)
    head, tail = b'{"id": "big", "uri": "', b'"}'
    n = size // len(piece)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        if chunked:
            def gen():
                yield head
                for _ in range(n):
                    yield piece
                yield tail
            c.request("POST", "/api/streams", body=gen(), headers=headers, encode_chunked=True)
        else:
            c.request("POST", "/api/streams", body=head + piece * n + tail, headers=headers)
        r = c.getresponse()
        r.read()
        return str(r.status)
    except (ConnectionError, OSError):
        try:
            r = c.getresponse()  # the answer may have arrived before the reset
            return f"{r.status} (then reset)"
        except Exception:
            return "reset"
    finally:
        c.close()


def metric_series(port, token=None):
    """(series count, bytes) of /metrics."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
    series = {line.rsplit(" ", 1)[0] for line in text.decode().splitlines() if line and not line.startswith("#")}
    return series, len(text)


def section_api(work):
    """Two real services on loopback (no token, then a token), a stream of their own running, and what a hostile client
    sends: the answers and the process's memory (RSS from /proc) before and after each group."""
    d = os.path.join(work, "api")
    root, outside = os.path.join(d, "out"), os.path.join(d, "outside")
    os.makedirs(root, exist_ok=True)
    os.makedirs(outside, exist_ok=True)
    victim, foreign = os.path.join(outside, "victim.txt"), os.path.join(root, "operator.txt")
    for f in (victim, foreign):
        with open(f, "w") as h:
            h.write("precious")
    os.symlink(outside, os.path.join(root, "escape"))
    keep = """detector:
  model: motion
streams:
  - id: keep
    uri: "lavfi:testsrc2=size=320x240:rate=25"
    mode: live
"""
    ok_uri = "lavfi:testsrc2=size=160x120:rate=15"

    def add_body(i, sinks):
        return json.dumps({"id": i, "uri": ok_uri, "mode": "live", "sinks": sinks})

    groups = []

    def group(svc, name, calls, token=None):
        rss0 = proc_sample(svc.proc.pid)[0]
        outcomes = calls()
        time.sleep(5)
        rss1 = proc_sample(svc.proc.pid)[0]
        groups.append({"group": name, "token": "yes" if token else "no", "outcomes": outcomes, "rss": (rss0, rss1)})

    def tally(statuses):
        counts = {}
        for x in statuses:
            counts[str(x)] = counts.get(str(x), 0) + 1
        return ", ".join(f"{n}x {k}" for k, n in sorted(counts.items()))

    # 1. No token: paths, targets, big bodies, a burst of changes.
    svc = Service(d, f"""  output_root: {root}
  allowed_targets: ["http://127.0.0.1:9/hooks/"]
{keep}""")
    precious_ok = True
    try:
        wait_until(lambda: (svc.stream() or {}).get("frames", 0) > 25, 120, "the API service's own stream")
        paths = [("tracks = an absolute path outside", {"tracks": victim}),
                 ("tracks = an existing file in the root", {"tracks": "operator.txt"}),
                 ("video over an existing file", {"video": {"path": "operator.txt", "format": "mp4", "preset": "ultrafast"}}),
                 ("events = ../outside/victim.txt", {"events": "../outside/victim.txt"}),
                 ("tracks = /proc/self/mem", {"tracks": "/proc/self/mem"}),
                 ("tracks through a symlink out", {"tracks": "escape/victim.txt"}),
                 ("snapshots = a symlinked folder out", {"snapshots": "escape"})]
        group(svc, "paths escaping the output root, a foreign file", lambda: [
            (label, api_call(svc.port, "POST", "/api/streams", add_body("api", sinks))[0]) for label, sinks in paths]
            + [("stream id ..", api_call(svc.port, "POST", "/api/streams", add_body("..", {}))[0])])
        with open(victim) as a, open(foreign) as b:
            precious_ok = a.read() == "precious" and b.read() == "precious" and os.listdir(outside) == ["victim.txt"]
        targets = [("webhook to 169.254.169.254", {"webhook": {"url": "http://169.254.169.254/latest"}}),
                   ("webhook to an allowed host, other path", {"webhook": {"url": "http://127.0.0.1:9/admin"}}),
                   ("MQTT broker 10.1.2.3:1883", {"mqtt": {"host": "10.1.2.3", "port": 1883}}),
                   ("Kafka broker 10.1.2.3:9092", {"kafka": {"brokers": "10.1.2.3:9092"}}),
                   ("video pushed to rtsp://10.1.2.3/x", {"video": {"path": "rtsp://10.1.2.3:8554/x"}})]
        group(svc, "targets off http.allowed_targets", lambda: [
            (label, api_call(svc.port, "POST", "/api/streams", add_body("api", sinks))[0]) for label, sinks in targets])

        def bodies():
            res = [None] * 8
            def one(i):
                res[i] = big_body(svc.port, 25 << 20, chunked=i >= 4)
            ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return [("25 MB with Content-Length (4 at once)", tally(res[:4])), ("25 MB chunked (4 at once)", tally(res[4:]))]
        group(svc, "8 concurrent 25 MB bodies (max_body_bytes 1 MiB)", bodies)

        def burst():
            statuses, retry = [], set()
            for i in range(40):
                for method, path, body in (("POST", "/api/streams", add_body(f"b{i}", {})), ("DELETE", f"/api/streams/b{i}", None)):
                    st, hd = api_call(svc.port, method, path, body)
                    statuses.append(st)
                    if st == 429:
                        retry.add(hd.get("Retry-After", "missing"))
            return [("40 add + 40 delete as fast as answered", tally(statuses)),
                    ("Retry-After on the 429s", ", ".join(sorted(retry)) or "none"),
                    ("GET /api/streams after the burst", api_call(svc.port, "GET", "/api/streams")[0])]
        group(svc, "a burst of changes (changes_per_minute 60)", burst)
        alive_a = svc.proc.poll() is None and (svc.stream() or {}).get("status") == "running"
    finally:
        code_a = svc.stop()

    # 2. With a token (and no change limit, for the cycles): who gets in; 90 add/delete cycles.
    svc = Service(d, f"""  output_root: {root}
  token: {API_TOKEN}
  changes_per_minute: 0
{keep}""")
    try:
        wait_until(lambda: api_call(svc.port, "GET", "/api/streams", token=API_TOKEN)[0] == 200, 120, "the token service")
        add = add_body("intruder", {})
        group(svc, "token required", lambda: [
            ("GET /api/streams, no token", api_call(svc.port, "GET", "/api/streams")[0]),
            ("POST /api/streams, no token", api_call(svc.port, "POST", "/api/streams", add)[0]),
            ("DELETE /api/streams/keep, no token", api_call(svc.port, "DELETE", "/api/streams/keep")[0]),
            ("POST /api/reload, no token", api_call(svc.port, "POST", "/api/reload")[0]),
            ("GET /metrics, no token", api_call(svc.port, "GET", "/metrics")[0]),
            ("GET /api/streams, wrong token", api_call(svc.port, "GET", "/api/streams", token=API_TOKEN + "x")[0]),
            ("POST /api/streams, wrong token", api_call(svc.port, "POST", "/api/streams", add, token=API_TOKEN[:-1])[0]),
            ("POST /api/login, wrong token", api_call(svc.port, "POST", "/api/login", json.dumps({"token": "guess"}))[0]),
            ("25 MB chunked body, no token", big_body(svc.port, 25 << 20, chunked=True)),
            ("GET /healthz, no token", api_call(svc.port, "GET", "/healthz")[0]),
            ("GET /api/streams, right token", api_call(svc.port, "GET", "/api/streams", token=API_TOKEN)[0]),
        ], token=True)
        intruder = api_call(svc.port, "GET", "/api/streams/intruder", token=API_TOKEN)[0]
        metric_series(svc.port, API_TOKEN)
        time.sleep(12)  # the runtime's and Kestrel's counters appear on their first collection: let them, before counting
        series0 = metric_series(svc.port, API_TOKEN)
        rss0 = proc_sample(svc.proc.pid)[0]
        cycle_status = []
        for i in range(90):
            sid = f"cycle{i}"
            st, _ = api_call(svc.port, "POST", "/api/streams",
                             add_body(sid, {"events": "{stream}/events.jsonl", "tracks": "{stream}/tracks.txt"}), token=API_TOKEN)
            cycle_status.append(st)
            def running():
                c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
                try:
                    c.request("GET", f"/api/streams/{sid}", headers={"Authorization": f"Bearer {API_TOKEN}"})
                    r = c.getresponse()
                    body = r.read()
                    return r.status == 200 and json.loads(body).get("frames", 0) > 0
                except (OSError, ValueError, http.client.HTTPException):
                    return False
                finally:
                    c.close()
            if st == 201:
                wait_until(running, 60, f"{sid} running")
            cycle_status.append(api_call(svc.port, "DELETE", f"/api/streams/{sid}", token=API_TOKEN)[0])
        time.sleep(10)
        series1 = metric_series(svc.port, API_TOKEN)
        rss1 = proc_sample(svc.proc.pid)[0]
        added = series1[0] - series0[0]
        ours = [len([x for x in ss[0] if x.startswith("sv_")]) for ss in (series0, series1)]
        cycles = {"statuses": tally(cycle_status), "series": ((len(series0[0]), series0[1]), (len(series1[0]), series1[1])),
                  "ours": ours, "rss": (rss0, rss1), "of_deleted": sum(1 for x in series1[0] if 'stream="cycle' in x),
                  "families": sorted({x.split("{")[0] for x in added if x.startswith("sv_")})}
        alive_b = svc.proc.poll() is None
    finally:
        code_b = svc.stop()
    return {"groups": groups, "precious": precious_ok, "cycles": cycles, "intruder": intruder,
            "alive": alive_a and alive_b, "exit": (code_a, code_b)}


def proc_sample(pid):
    """RSS (MB), threads and open handles of a process, from /proc."""
    rss, threads = 0.0, 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads, len(os.listdir(f"/proc/{pid}/fd"))


def scrape(port):
    """Every series of /metrics as {'name' or 'name{labels}': value} ({} when the service does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            try:
                values[key] = float(value)
            except ValueError:
                pass
    return values


def by_kind(series, name):
    """The series of `name` labelled only by kind, as {kind: value}."""
    prefix = name + '{kind="'
    return {k[len(prefix):-2]: v for k, v in series.items() if k.startswith(prefix) and k.endswith('"}')}


def slope(points):
    """Least-squares slope of (minute, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def section_soak(work, minutes, every=15):
    """Four live streams (test sources at 25 fps, motion detector, events, tracks, 60 s video segments) for a while."""
    d = os.path.join(work, "soak")
    os.makedirs(d, exist_ok=True)
    streams = "".join(f"""  - id: cam{i}
    uri: "lavfi:testsrc2=size=640x360:rate=25"
    mode: live
""" for i in range(4))
    svc = Service(work, f"""detector:
  model: motion
sinks:
  video:
    path: {d}/{{stream}}-{{index}}.mp4
    preset: ultrafast
    segment_seconds: 60
  events: {d}/{{stream}}.jsonl
  tracks: {d}/{{stream}}.txt
streams:
{streams}""")
    samples = []
    try:
        wait_until(lambda: len(svc.streams() or []) == 4 and all(s["frames"] > 25 for s in svc.streams()), 180, "four streams running")
        t0 = time.monotonic()
        while time.monotonic() - t0 < minutes * 60:
            rss, threads, fds = proc_sample(svc.proc.pid)
            series = scrape(svc.port)
            native = by_kind(series, "sv_native_heap_bytes")
            ss = svc.streams() or []
            samples.append({"min": (time.monotonic() - t0) / 60, "rss": rss, "threads": threads, "fds": fds,
                            "heap": series.get("dotnet_total_memory_bytes", 0) / 1e6,
                            # glibc's heap, every native library's: bytes allocated, free but kept by the arenas, mapped blocks
                            "native_in_use": native.get("in_use", 0) / 1e6, "native_free": native.get("free", 0) / 1e6,
                            "native_mmap": native.get("mmap", 0) / 1e6, "arenas": series.get("sv_native_heap_arenas", 0),
                            "handles": by_kind(series, "sv_native_handles"),
                            "fps": [s["fps"] for s in ss], "lat": [s["latency_ms"] for s in ss],
                            "drops": sum(s["drops"] for s in ss)})
            time.sleep(every)
    finally:
        code = svc.stop()
    tail_from = minutes / 3  # the slope over the last two thirds (the last 20 minutes of 30)
    tail = [x for x in samples if x["min"] >= tail_from]
    return {"minutes": minutes, "samples": samples, "exit": code,
            "rss_slope": slope([(x["min"], x["rss"]) for x in tail]), "heap_slope": slope([(x["min"], x["heap"]) for x in tail]),
            "native_in_use_slope": slope([(x["min"], x["native_in_use"]) for x in tail]),
            "native_free_slope": slope([(x["min"], x["native_free"]) for x in tail]),
            "tail_from": tail_from}


def soak_rows(xs):
    """The soak table's rows: | what | first | last | min | max |, the native handles one row per kind."""
    def row(label, values, fmt):
        return f"| {label} | {fmt(values[0])} | {fmt(values[-1])} | {fmt(min(values))} | {fmt(max(values))} |"
    whole = lambda v: f"{v:.0f}"
    rows = [row("RSS MB", [x["rss"] for x in xs], whole), row("threads", [x["threads"] for x in xs], whole),
            row("handles (fds)", [x["fds"] for x in xs], whole), row("GC heap MB", [x["heap"] for x in xs], whole),
            row("native heap in use MB", [x["native_in_use"] for x in xs], lambda v: f"{v:.1f}"),
            row("native heap free MB (kept by the arenas)", [x["native_free"] for x in xs], lambda v: f"{v:.1f}"),
            row("native heap mmap MB", [x["native_mmap"] for x in xs], lambda v: f"{v:.1f}"),
            row("malloc arenas", [x["arenas"] for x in xs], whole)]
    for kind in sorted({k for x in xs for k in x["handles"]}):
        rows.append(row(f"native objects: {kind}", [x["handles"].get(kind, 0) for x in xs], whole))
    return rows


def fmt_s(xs):
    return f"median {statistics.median(xs):.2f} s, worst {max(xs):.2f} s" if xs else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="short versions: 3 RTSP kills, 15 s outage, one SIGKILL")
    ap.add_argument("--out", default=os.path.join(ROOT, "RELIABILITY.md"))
    ap.add_argument("--only", nargs="*", default=["rtsp", "broker", "sigkill", "corpus", "api", "soak"],
                    help="sections to run (default all): rtsp broker sigkill corpus api soak")
    ap.add_argument("--soak-minutes", type=float, default=None, help="soak length (default 30, --quick 3)")
    a = ap.parse_args()
    if not os.path.exists(APP):
        sys.exit(f"{APP} not built: run ./streamvision setup")
    work = tempfile.mkdtemp(prefix="sv-reliability-")
    kills, outage, runs = (3, 15, 1) if a.quick else (10, 60, 3)
    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    md = ["# Reliability", "",
          f"Written by `tools/reliability.py{' --quick' if a.quick else ''}` on {started}, {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} at the start (the machine was shared with other work: timings are slower than on an idle machine).", ""]
    if "rtsp" in a.only:
        print("rtsp ...", flush=True)
        r = section_rtsp(work, kills)
        md += ["## RTSP camera killed and restarted", "",
               f"The camera (gst-rtsp-server) killed with SIGKILL and restarted {r['kills']} times under `streamvision run` "
               "(motion detector): time from the restart to frames flowing again "
               f"{fmt_s(r['resume'])} (each: {', '.join(f'{x:.2f}' for x in r['resume'])} s, backoff 0.2..1 s included). "
               f"Frames dropped at each reconnect: {', '.join(str(x) for x in r['drops'])}.", ""]
    if "broker" in a.only:
        print("broker ...", flush=True)
        runs_b = [section_broker(work, outage, buf) for buf in (500, 20)]
        md += ["## MQTT broker outage", "",
               f"mosquitto stopped (SIGTERM) for {outage} s under a real-time stream (paced test source, motion detector, "
               "events to MQTT at QoS 1), then started again; the stream ran to its end and the sink drained. Once with a "
               "buffer that holds the outage, once with a 20-event buffer that cannot (the oldest are dropped and counted).", "",
               "| sink buffer | produced | delivered (acknowledged) | dropped and counted | received by mosquitto_sub | produced = delivered + dropped | states seen during the outage | MQTT warning lines |",
               "|---|---|---|---|---|---|---|---|"]
        for b in runs_b:
            ok = b["produced"] == b["delivered"] + b["dropped"]
            md.append(f"| {b['buffer']} | {b['produced']} | {b['delivered']} | {b['dropped']} | {b['received']} | "
                      f"{'yes' if ok else 'NO'} | {', '.join(b['states'])} | {b['warnings']} |")
        md += ["", "Dropped events are counted in `sv_sink_events_dropped_total{reason}` (`overflow` beyond the buffer). QoS 1 "
               "may deliver a message twice after a reconnect, so received can exceed delivered. The warnings: the connection "
               "lost, the sink now buffering, the sink connected again.", ""]
    if "sigkill" in a.only:
        print("sigkill ...", flush=True)
        k = section_sigkill(work, runs, 10)
        md += ["## SIGKILL mid-write", "",
               "`streamvision run` (live test source, motion detector, video + events + tracks) killed with SIGKILL after "
               "about 10 s of video; frames written (API, just before the kill) against frames that decode from the killed "
               "fragmented MP4 (ffprobe).", "", "| written | decoded | seconds lost | torn lines |", "|---|---|---|---|"]
        md += [f"| {x['written']} | {x['decoded']} | {x['lost_s']:.2f} | {x['torn']} |" for x in k]
        md += ["", f"Median seconds lost: {statistics.median([x['lost_s'] for x in k]):.2f}.", ""]
    if "corpus" in a.only:
        print("corpus ...", flush=True)
        c = section_corpus(work)
        md += ["## Hostile media", "",
               f"{len(c)} files made here, through `streamvision probe` and `streamvision annotate` (exit code, last line "
               "of output). 0 = decoded (fully or partly), 1 = a clean error; anything else would be a crash.", "",
               "| file | probe | annotate |", "|---|---|---|"]
        md += [f"| {r['file']} | {r['probe'][0]}: {r['probe'][1]} | {r['annotate'][0]}: {r['annotate'][1]} |" for r in c]
        bad = [r["file"] for r in c if r["probe"][0] not in (0, 1) or r["annotate"][0] not in (0, 1)]
        md += ["", f"Crashes or hangs: {', '.join(bad) if bad else 'none'}.", ""]
    if "api" in a.only:
        print("api ...", flush=True)
        r = section_api(work)
        md += ["## API abuse", "",
               "`streamvision run` on loopback with its own live stream (motion detector), first without a token "
               "(`http.output_root` set, `allowed_targets: [http://127.0.0.1:9/hooks/]`, default `max_body_bytes` 1 MiB and "
               "`changes_per_minute` 60), then with `http.token` (and `changes_per_minute: 0` for the add/delete cycles). "
               "Each group's requests and answers (status code; `reset` = the server answered and closed while the client "
               "was still sending), and the service's RSS just before the group and 5 s after it.", "",
               "| group | token set | request | answer | RSS MB before -> after |", "|---|---|---|---|---|"]
        for g in r["groups"]:
            for j, (label, outcome) in enumerate(g["outcomes"]):
                mem = f"{g['rss'][0]:.0f} -> {g['rss'][1]:.0f}" if j == 0 else ""
                md.append(f"| {g['group'] if j == 0 else ''} | {g['token'] if j == 0 else ''} | {label} | {outcome} | {mem} |")
        c = r["cycles"]
        md += ["", f"90 add/delete cycles (each stream with events and tracks under the root, waited until it decoded "
               f"frames, then deleted), with the token: answers {c['statuses']}; `/metrics` {c['series'][0][0]} series "
               f"({c['series'][0][1] / 1024:.0f} KB) before, {c['series'][1][0]} series ({c['series'][1][1] / 1024:.0f} KB) "
               f"after ({c['ours'][0]} -> {c['ours'][1]} of the service's own `sv_` series; new `sv_` families: "
               f"{', '.join(c['families']) or 'none'}), {c['of_deleted']} series naming a deleted stream; "
               f"RSS {c['rss'][0]:.0f} -> {c['rss'][1]:.0f} MB.", "",
               *(["In the burst, refused POSTs leave their DELETE a 404 once the bucket has refilled a token (one per second).", ""]
                 if any("404" in str(o) for g in r["groups"] for _, o in g["outcomes"]) else []),
               f"The files outside the root and the operator's file in it unchanged: {'yes' if r['precious'] else 'NO'}. "
               f"The stream an unauthenticated POST tried to add exists: {'no' if r['intruder'] == 404 else r['intruder']}. "
               f"The services kept running their own stream throughout: {'yes' if r['alive'] else 'NO'}; exit codes after "
               f"SIGTERM {r['exit'][0]}, {r['exit'][1]}.", ""]
    if "soak" in a.only:
        minutes = a.soak_minutes if a.soak_minutes is not None else (3 if a.quick else 30)
        print(f"soak {minutes} min ...", flush=True)
        s = section_soak(work, minutes)
        xs = s["samples"]
        first, last = xs[0], xs[-1]
        fps = [f for x in xs for f in x["fps"]]
        lat = [l for x in xs for l in x["lat"]]
        md += ["## Soak", "",
               f"Four live streams (test sources 640x360 at 25 fps, motion detector, events, tracks, 60 s MP4 segments) for "
               f"{s['minutes']:g} minutes, sampled every 15 s ({len(xs)} samples): RSS from /proc, threads, open file handles, "
               "GC heap (`dotnet_total_memory_bytes`), the glibc heap every native library allocates from "
               "(`sv_native_heap_bytes{kind}`, `sv_native_heap_arenas`) and the native objects alive by kind "
               "(`sv_native_handles{kind}`). Exit code after SIGTERM: " + str(s["exit"]) + ".", "",
               "| | first | last | min | max |", "|---|---|---|---|---|",
               *soak_rows(xs),
               "",
               f"Slope from minute {s['tail_from']:.0f} to the end: RSS {s['rss_slope']:+.2f} MB/min, GC heap "
               f"{s['heap_slope']:+.2f} MB/min, native heap in use {s['native_in_use_slope']:+.2f} MB/min, native heap free "
               f"{s['native_free_slope']:+.2f} MB/min; native objects "
               f"{'level throughout' if all(x['handles'] == first['handles'] for x in xs) else 'varied (see the table)'}. "
               f"fps per stream: median {statistics.median(fps):.1f}, lowest {min(fps):.1f}; "
               f"latency median {statistics.median(lat):.1f} ms, worst {max(lat):.1f} ms; frames dropped (all streams): "
               f"{last['drops']}.", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(md))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
