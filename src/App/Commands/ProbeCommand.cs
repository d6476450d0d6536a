using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Native;

namespace StreamVision.App.Commands;

/// <summary><c>streamvision probe URI</c>: codec, size, fps, duration or live, and how long the first frame took.</summary>
public static class ProbeCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("uri") { Description = "File path, URL (rtsp://, http://, udp://, srt://), device (/dev/video0) or testsrc" };
        var format = new Option<string?>("--format") { Description = "Force an input format (lavfi, v4l2, mpegts, ...)" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the input to open and the first frame", DefaultValueFactory = _ => 10 };
        var transport = new Option<RtspTransport>("--rtsp-transport") { Description = "RTSP media over tcp or udp", DefaultValueFactory = _ => RtspTransport.Tcp };
        var hwaccel = new Option<string?>("--hwaccel") { Description = "Try hardware decode (cuda, vaapi); reports why it is not used" };
        var cmd = new Command("probe", "Open a source and print what it holds and how long the first frame took.") { uri, format, timeout, transport, hwaccel };
        cmd.SetAction(pr => Run(pr.GetValue(uri)!, pr.GetValue(format), TimeSpan.FromSeconds(pr.GetValue(timeout)), Console.Out, Console.Error,
            pr.GetValue(transport), pr.GetValue(hwaccel)));
        return cmd;
    }

    public static int Run(string uri, string? format, TimeSpan timeout, TextWriter output, TextWriter error,
        RtspTransport rtspTransport = RtspTransport.Tcp, string? hwAccel = null)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            // The same resolution and FFmpeg options a stream with this URI gets.
            var options = new SourceOptions { Uri = uri, Format = format, OpenTimeout = timeout, ReadTimeout = timeout, RtspTransport = rtspTransport, HwAccel = hwAccel };
            var resolved = options.Resolve();
            using var reader = MediaReader.Open(resolved.Url, options.ToReaderOptions());
            var opened = sw.Elapsed;
            var info = reader.Info;
            using var frame = Frame.CreateUnpooled(Math.Max(1, info.Width), Math.Max(1, info.Height));
            bool got = reader.TryReadFrame(frame, out _);
            var first = sw.Elapsed;
            var ci = CultureInfo.InvariantCulture;
            output.WriteLine($"source         {Ingest.SourceUri.Redact(uri)}");
            output.WriteLine($"kind           {resolved.Kind.ToString().ToLowerInvariant()} ({(options.IsFile ? "file" : "live")} by default)");
            output.WriteLine($"format         {info.Format}");
            output.WriteLine($"codec          {info.Codec} ({info.PixelFormat})");
            output.WriteLine(info.Rotation != 0 ? $"size           {info.Width}x{info.Height} (rotated {info.Rotation} degrees)" : $"size           {info.Width}x{info.Height}");
            output.WriteLine(string.Create(ci, $"fps            {info.Fps:0.###}"));
            output.WriteLine(info.Duration is { } d && info.IsSeekable
                ? string.Create(ci, $"duration       {d.TotalSeconds:0.###} s ({(info.FrameCount > 0 ? info.FrameCount + " frames" : "frame count unknown")})")
                : "duration       live");
            if (!string.IsNullOrEmpty(hwAccel)) output.WriteLine($"hardware       {reader.HardwareStatus}");
            output.WriteLine(string.Create(ci, $"open           {opened.TotalMilliseconds:0} ms"));
            output.WriteLine(got ? string.Create(ci, $"first frame    {first.TotalMilliseconds:0} ms") : "first frame    none (empty stream)");
            return got ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (MediaException ex)
        {
            error.WriteLine($"probe: {ex.Message.Replace(uri, Ingest.SourceUri.Redact(uri), StringComparison.Ordinal)}");
            return ExitCodes.Failed;
        }
    }
}
