#!/usr/bin/env python3
"""Fail-over measurement of a StreamVision cluster on this machine (loopback only).

Starts a three-member etcd cluster (Debian's etcd-server, temp data folders, free ports) and three
`streamvision run` processes clustered on it, adds nine live test patterns, then repeats: wait until every
stream runs on exactly one instance, `kill -9` one instance, time until each of its streams analyses frames on
another instance, start the killed instance again. Reports the median and worst time from kill to frames resumed
(per stream and per kill: the kill's last stream), and whether any stream was ever seen running on two instances
in two samples in a row.

  tools/cluster-failover.py [--kills 12] [--lease 4] [--streams 9] [--markdown FILE]

Needs a Release build (./streamvision setup) and etcd-server/etcd-client (set-up installs them).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "src", "App", "bin", "Release", "net10.0", "streamvision.dll")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=3.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        is_json = raw and "json" in (r.headers.get("Content-Type") or "")
        return r.status, (json.loads(raw) if is_json else raw.decode())


def wait(cond, timeout, what, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(step)
    if not cond():
        raise TimeoutError(f"{what}: not within {timeout:.0f} s")


class Etcd:
    def __init__(self, folder, n=3):
        self.folder = folder
        self.clients = [free_port() for _ in range(n)]
        self.peers = [free_port() for _ in range(n)]
        self.procs = [None] * n
        self.urls = [f"http://127.0.0.1:{p}" for p in self.clients]

    def start(self):
        initial = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, p in enumerate(self.peers))
        for i in range(len(self.procs)):
            log = open(os.path.join(self.folder, f"etcd-{i}.log"), "ab")
            self.procs[i] = subprocess.Popen(
                ["etcd", "--name", f"m{i}", "--data-dir", os.path.join(self.folder, f"m{i}"),
                 "--listen-client-urls", self.urls[i], "--advertise-client-urls", self.urls[i],
                 "--listen-peer-urls", f"http://127.0.0.1:{self.peers[i]}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peers[i]}",
                 "--initial-cluster", initial, "--initial-cluster-state", "new",
                 "--initial-cluster-token", f"sv-{os.getpid()}", "--logger", "zap", "--log-outputs", "stderr"],
                stdout=log, stderr=log)
        for url in self.urls:
            wait(lambda: subprocess.run(["etcdctl", f"--endpoints={url}", "--command-timeout=2s", "endpoint", "health"],
                                        capture_output=True).returncode == 0, 60, f"etcd {url} healthy", 0.2)

    def stop(self):
        for p in self.procs:
            if p and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()


class Node:
    def __init__(self, folder, name, etcd, cluster, lease):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = os.path.join(folder, f"{name}.yaml")
        self.log = os.path.join(folder, f"{name}.log")
        self.proc = None
        with open(self.config, "w") as f:
            f.write(f"""instance: {name}
http:
  listen: {self.base}
detector:
  model: none
sinks:
  preview: false
cluster:
  endpoints: [{", ".join(etcd.urls)}]
  name: {cluster}
  lease_seconds: {lease}
""")

    def start(self):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(["dotnet", APP, "run", "-c", self.config], stdout=log, stderr=log)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ready(self):
        try:
            return http("GET", self.base + "/readyz")[0] == 200
        except (urllib.error.URLError, OSError):
            return False

    def running(self):
        """{stream: frames} of the streams this instance runs; {} when it does not answer."""
        if not self.alive():
            return {}
        try:
            _, streams = http("GET", self.base + "/api/streams?scope=local")
            return {s["id"]: s["frames"] for s in streams if s["status"] == "running"}
        except (urllib.error.URLError, OSError, ValueError):
            return {}

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def terminate(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sample(nodes):
    """{stream: [(node, frames), ...]} over every node, asked in parallel."""
    answers = {}
    threads = [threading.Thread(target=lambda n=n: answers.__setitem__(n.name, n.running())) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = {}
    for n in nodes:
        for stream, frames in answers.get(n.name, {}).items():
            result.setdefault(stream, []).append((n.name, frames))
    return result


M64 = (1 << 64) - 1


def _fnv(h, text):
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & M64
    return h


def weight(stream, member):
    """src/Cluster/Rendezvous.cs: FNV-1a 64 over stream, 0x1F, member; SplitMix64 finaliser."""
    h = _fnv(14695981039346656037, stream)
    h = ((h ^ 0x1F) * 1099511628211) & M64
    h = _fnv(h, member)
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & M64
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & M64
    return h ^ (h >> 31)


def owner(stream, members):
    return max(sorted(members), key=lambda m: weight(stream, m))


def placed(nodes, streams):
    """Every stream runs with frames on exactly the instance rendezvous hashing picks among the live ones."""
    live = [n.name for n in nodes if n.alive()]
    s = sample(nodes)
    return len(s) == len(streams) and all(
        len(s.get(x, [])) == 1 and s[x][0][1] > 0 and s[x][0][0] == owner(x, live) for x in streams)


class Sampler(threading.Thread):
    """Asks every node four times a second; a stream on two nodes in two samples in a row is a duplicate."""

    def __init__(self, nodes):
        super().__init__(daemon=True)
        self.nodes, self.stop, self.samples, self.twice = nodes, threading.Event(), 0, []

    def run(self):
        previous = set()
        while not self.stop.is_set():
            now = sample(self.nodes)
            doubled = {k for k, v in now.items() if len(v) > 1}
            self.twice += [f"{k} on {now[k]}" for k in doubled & previous]
            previous = doubled
            self.samples += 1
            self.stop.wait(0.25)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=12)
    ap.add_argument("--lease", type=int, default=4, help="cluster.lease_seconds of every instance")
    ap.add_argument("--streams", type=int, default=9)
    ap.add_argument("--markdown", help="also write the result table to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs) afterwards")
    args = ap.parse_args()
    if not os.path.exists(APP):
        sys.exit(f"cluster-failover: {APP} missing: run ./streamvision setup first")
    for tool in ("etcd", "etcdctl", "dotnet"):
        if shutil.which(tool) is None:
            sys.exit(f"cluster-failover: {tool} not found (set-up installs etcd-server and etcd-client)")

    folder = tempfile.mkdtemp(prefix="sv-failover-")
    etcd = Etcd(folder)
    nodes = [Node(folder, n, etcd, f"failover{os.getpid()}", args.lease) for n in ("a", "b", "c")]
    streams = [f"cam{i}" for i in range(1, args.streams + 1)]
    per_stream, per_kill = [], []
    sampler = Sampler(nodes)
    try:
        etcd.start()
        for n in nodes:
            n.start()
        wait(lambda: all(n.ready() for n in nodes), 120, "three instances ready", 0.25)
        for i, s in enumerate(streams):
            status, _ = http("POST", nodes[i % 3].base + "/api/streams",
                             {"id": s, "uri": "lavfi:testsrc2=size=160x120:rate=10", "mode": "live"})
            assert status == 201, status
        sampler.start()
        for k in range(args.kills):
            wait(lambda: placed(nodes, streams) and all(n.ready() for n in nodes), 120, "every stream on one instance")
            where = sample(nodes)
            victim = nodes[k % 3]
            moved = [s for s in streams if where[s][0][0] == victim.name]
            if not moved:  # this instance holds nothing: take the busiest
                victim = max(nodes, key=lambda n: sum(1 for s in streams if where[s][0][0] == n.name))
                moved = [s for s in streams if where[s][0][0] == victim.name]
            others = [n for n in nodes if n is not victim]
            t0 = time.monotonic()
            victim.kill9()
            resumed = {}

            def all_resumed():
                now = sample(others)
                for s in moved:
                    if s not in resumed and any(f > 0 for _, f in now.get(s, [])):
                        resumed[s] = time.monotonic() - t0
                return len(resumed) == len(moved)

            wait(all_resumed, args.lease + 60, f"kill {k + 1}: streams resumed", 0.05)
            per_stream += resumed.values()
            per_kill.append(max(resumed.values()))
            print(f"kill {k + 1:2}: {victim.name} ({len(moved)} streams) -> frames resumed after "
                  f"{min(resumed.values()):.1f}..{max(resumed.values()):.1f} s", flush=True)
            victim.start()
        wait(lambda: placed(nodes, streams), 120, "final placement")
    finally:
        sampler.stop.set()
        for n in nodes:
            n.terminate()
        etcd.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
    rows = [
        "| lease | kills | streams moved | per stream: median / p90 / worst | per kill (last stream): median / worst | bound (lease + 5 s) | seen twice |",
        "|---|---|---|---|---|---|---|",
        f"| {args.lease} s | {len(per_kill)} | {len(per_stream)} | {statistics.median(per_stream):.1f} / {q(per_stream, 0.9):.1f} / {max(per_stream):.1f} s "
        f"| {statistics.median(per_kill):.1f} / {max(per_kill):.1f} s | {args.lease + 5} s | {len(sampler.twice)} in {sampler.samples} samples |",
    ]
    print("\n".join(rows))
    if sampler.twice:
        print("duplicates:", sampler.twice)
    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("\n".join(rows) + "\n")
    return 1 if sampler.twice or max(per_stream) > args.lease + 5 else 0


if __name__ == "__main__":
    sys.exit(main())
