"""A tiny RTSP camera for tests: gst-rtsp-server on 127.0.0.1 serving an endless H.264 stream.

    /usr/bin/python3 rtsp_server.py --port 8554 --file clip.mp4 [--mount /cam]

ffmpeg loops the file in real time and sends RTP to a private UDP port; the RTSP media re-payloads it.
The feeder dies with this process (PR_SET_PDEATHSIG), so killing the server kills the camera.
Prints "READY rtsp://127.0.0.1:PORT/MOUNT" on stdout once clients can connect.
"""
import argparse
import ctypes
import signal
import socket
import subprocess
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--file", required=True, help="H.264 file with SPS/PPS in-band (repeat-headers=1)")
    ap.add_argument("--mount", default="/cam")
    args = ap.parse_args()

    Gst.init(None)
    rtp_port = free_udp_port()
    caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( udpsrc address=127.0.0.1 port={rtp_port} caps="{caps}" ! rtph264depay ! h264parse '
        f"! rtph264pay name=pay0 pt=96 config-interval=1 )")
    factory.set_shared(True)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1

    feeder = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", args.file,
         "-an", "-c", "copy", "-f", "rtp", f"rtp://127.0.0.1:{rtp_port}?pkt_size=1200"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY rtsp://127.0.0.1:{args.port}{args.mount}", flush=True)
    try:
        loop.run()
    finally:
        feeder.kill()
        feeder.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
