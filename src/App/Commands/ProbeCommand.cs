using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.App.Commands;

/// <summary><c>streamvision probe URI</c>: codec, size, fps, duration or live, and how long the first frame took.</summary>
public static class ProbeCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("uri") { Description = "File path, URL (rtsp://, http://, udp://, srt://) or device (/dev/video0)" };
        var format = new Option<string?>("--format") { Description = "Force an input format (lavfi, v4l2, ...)" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the input to open and the first frame", DefaultValueFactory = _ => 10 };
        var cmd = new Command("probe", "Open a source and print what it holds and how long the first frame took.") { uri, format, timeout };
        cmd.SetAction(pr => Run(pr.GetValue(uri)!, pr.GetValue(format), TimeSpan.FromSeconds(pr.GetValue(timeout)), Console.Out, Console.Error));
        return cmd;
    }

    public static int Run(string uri, string? format, TimeSpan timeout, TextWriter output, TextWriter error)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            var (url, fmt) = SourceUri.Resolve(uri, format);
            using var reader = MediaReader.Open(url, new MediaReaderOptions { Format = fmt, OpenTimeout = timeout, ReadTimeout = timeout });
            var opened = sw.Elapsed;
            var info = reader.Info;
            using var frame = Frame.CreateUnpooled(Math.Max(1, info.Width), Math.Max(1, info.Height));
            bool got = reader.TryReadFrame(frame, out _);
            var first = sw.Elapsed;
            var ci = CultureInfo.InvariantCulture;
            output.WriteLine($"source         {uri}");
            output.WriteLine($"format         {info.Format}");
            output.WriteLine($"codec          {info.Codec} ({info.PixelFormat})");
            output.WriteLine($"size           {info.Width}x{info.Height}");
            output.WriteLine(string.Create(ci, $"fps            {info.Fps:0.###}"));
            output.WriteLine(info.Duration is { } d && info.IsSeekable
                ? string.Create(ci, $"duration       {d.TotalSeconds:0.###} s ({(info.FrameCount > 0 ? info.FrameCount + " frames" : "frame count unknown")})")
                : "duration       live");
            output.WriteLine(string.Create(ci, $"open           {opened.TotalMilliseconds:0} ms"));
            output.WriteLine(got ? string.Create(ci, $"first frame    {first.TotalMilliseconds:0} ms") : "first frame    none (empty stream)");
            return got ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (MediaException ex)
        {
            error.WriteLine($"probe: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
