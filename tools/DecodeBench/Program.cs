// Decode + BGR24 conversion speed in-process against the ffmpeg CLI on the same file with the same decoder threads.
//   dotnet run -c Release --project tools/DecodeBench -- FILE [--threads T] [--runs N]
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Native;

var ci = CultureInfo.InvariantCulture;
if (args.Length < 1 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: DecodeBench FILE [--threads T (0 = auto)] [--runs N (best of, default 3)]");
    return 2;
}
string file = args[0];
int threads = IntArg("--threads", 0);
int runs = Math.Max(1, IntArg("--runs", 3));

NativeInfo.SetFfmpegLogging(false);
MediaInfo info;
using (var probe = MediaReader.Open(file)) info = probe.Info;

// 1. MediaReader alone: the decode loop a source runs, without channel or pool.
long frames = 0;
double bestReader = double.MaxValue;
for (int r = 0; r < runs; r++)
{
    using var reader = MediaReader.Open(file, new MediaReaderOptions { Threads = threads });
    using var frame = Frame.CreateUnpooled(info.Width, info.Height);
    long n = 0;
    var sw = Stopwatch.StartNew();   // after opening, as the CLI's rtime
    while (reader.TryReadFrame(frame, out _)) n++;
    bestReader = Math.Min(bestReader, sw.Elapsed.TotalSeconds);
    frames = n;
}

// 2. The whole ingest path: VideoSource (file mode) -> bounded channel -> a consumer that returns each frame to the pool.
double bestSource = double.MaxValue;
var pool = new FramePool();
for (int r = 0; r < runs; r++)
{
    await using var source = new VideoSource(new SourceOptions { Uri = file, Mode = SourceMode.File, DecoderThreads = threads }, pool);
    source.Start();
    long n = 0;
    var sw = new Stopwatch();
    while (await source.Frames.WaitToReadAsync())
    {
        while (source.Frames.TryRead(out var f))
        {
            f.Dispose();
            if (n++ == 0) sw.Start();   // from the first frame: opening is not decoding (the CLI's rtime leaves it out too)
        }
    }
    bestSource = Math.Min(bestSource, sw.Elapsed.TotalSeconds * n / Math.Max(1, n - 1));
    if (n != frames) throw new InvalidOperationException($"VideoSource delivered {n} frames, MediaReader {frames}");
}

// 3. The ffmpeg CLI: -benchmark's rtime covers decoding and conversion, not process start or opening.
double bestCli = double.MaxValue;
for (int r = 0; r < runs; r++)
{
    var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in new[] { "-hide_banner", "-nostdin", "-benchmark", "-threads", threads.ToString(ci), "-i", file, "-map", "0:v:0", "-pix_fmt", "bgr24", "-f", "null", "-" })
        psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    string err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    _ = stdout.Result;
    var m = Regex.Match(err, @"rtime=([0-9.]+)s");
    if (p.ExitCode != 0 || !m.Success) throw new InvalidOperationException("ffmpeg failed: " + err);
    bestCli = Math.Min(bestCli, double.Parse(m.Groups[1].Value, ci));
}

double readerFps = frames / bestReader, sourceFps = frames / bestSource, cliFps = frames / bestCli;
Console.WriteLine(string.Create(ci, $"file            {file}"));
Console.WriteLine(string.Create(ci, $"video           {info.Codec} {info.Width}x{info.Height} {info.PixelFormat}, {frames} frames"));
Console.WriteLine(string.Create(ci, $"threads         {threads}{(threads == 0 ? " (auto)" : "")}, {Environment.ProcessorCount} cores, best of {runs}"));
Console.WriteLine(string.Create(ci, $"in-process      {readerFps,8:0.0} fps  MediaReader decode + bgr24"));
Console.WriteLine(string.Create(ci, $"ingest path     {sourceFps,8:0.0} fps  VideoSource -> channel -> pool"));
Console.WriteLine(string.Create(ci, $"ffmpeg CLI      {cliFps,8:0.0} fps  ffmpeg -threads {threads} -i FILE -pix_fmt bgr24 -f null -"));
Console.WriteLine(string.Create(ci, $"ratio           {readerFps / cliFps,8:0.000}     in-process / CLI (target >= 0.95); ingest path / CLI {sourceFps / cliFps:0.000}"));
return 0;

int IntArg(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], ci) : fallback;
}
