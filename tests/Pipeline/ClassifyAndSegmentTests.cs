using System.Collections.Concurrent;
using System.Text.Json;
using StreamVision.Analytics;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Classification;
using StreamVision.Inference.Segmentation;
using StreamVision.Ingest;
using StreamVision.Sinks;

namespace StreamVision.Pipeline.Tests;

/// <summary>The classify and segment stages end to end: generated clips, real ONNX models built at test time, the builder.</summary>
public class ClassifyAndSegmentTests
{
    private static readonly Lazy<string> s_models = new(() =>
    {
        var dir = TestEnvironment.NewTempDir("svtaskmodels");
        TestEnvironment.Run("/usr/bin/python3", $"\"{Path.Combine(AppContext.BaseDirectory, "models", "make_task_models.py")}\" \"{dir}\"");
        return dir;
    });

    private static string Model(string name) => Path.Combine(s_models.Value, name);

    private static string Clip(string color, int frames) =>
        TestMedia.Make($"{color}-320x180-{frames}.mp4", $"-f lavfi -i color=c={color}:size=320x180:rate=25 -frames:v {frames} -c:v libx264 -preset ultrafast -pix_fmt yuv420p");

    /// <summary>Keeps every track and event it is given; optionally draws the first frame with a mask on a copy.</summary>
    private sealed class Collector(FramePool? drawPool = null) : ISink
    {
        public ConcurrentQueue<Track> Tracks { get; } = new();
        public ConcurrentQueue<AnalyticsEvent> Events { get; } = new();
        public (byte[] Inside, byte[] Outside)? Drawn { get; private set; }
        public string Name => "collector";

        public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
        {
            foreach (var t in item.Tracks) Tracks.Enqueue(t);
            foreach (var e in item.Events) Events.Enqueue(e);
            if (drawPool is not null && Drawn is null && !item.EventsOnly && item.Tracks.FirstOrDefault(t => t.Mask is not null && t.ClassId == 0) is { Mask: { } m })
            {
                if (!drawPool.TryRent(item.Frame.Width, item.Frame.Height, out var copy)) return ValueTask.CompletedTask;
                using var _ = copy;
                copy.CopyFrom(item.Frame);
                new Annotator(new AnnotatorOptions { Labels = false, Header = false, TrailLength = 0, MaskAlpha = 0.5 }).Draw(item, copy);
                // A pixel inside the person's mask and one inside its box but right of the mask (black clip).
                Drawn = (copy.GetRowSpan(90).Slice(3 * 100, 3).ToArray(), copy.GetRowSpan(90).Slice(3 * 150, 3).ToArray());
                Assert.True(m.Contains(100, 90));
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync(CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task TwoStreamsShareOneClassifierAndEachTrackIsLabelledByItsCropsColour()
    {
        const int frames = 20;
        string dir = TestEnvironment.NewTempDir();
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        var options = new ClassifierOptions { Model = Model("classifier.onnx"), FirstFrames = 1, EveryFrames = 5, Growth = 0, MaxWait = TimeSpan.FromMilliseconds(20) };
        using var classifier = OnnxClassifier.Load(options);
        await using var classify = new ClassifierBatcher(classifier, options, null, metrics);
        await using var batcher = new DetectionBatcher(new MovingBoxDetector(), new BatcherOptions { MaxBatch = 2, MaxWait = TimeSpan.FromMilliseconds(5) }, null, metrics);
        var runs = new List<(string Color, StreamRun Run, Collector Sink, string Events)>();
        foreach (var color in new[] { "red", "blue" })
        {
            var sink = new Collector();
            string events = Path.Combine(dir, color + ".jsonl");
            var run = new PipelineBuilder(color, pool).Metrics(metrics).Source(new SourceOptions { Uri = Clip(color, frames), Mode = SourceMode.File })
                .Detector(batcher).Tracker().Classifier(classify)
                .Sink(sink).Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = events })).Build();
            runs.Add((color, run, sink, events));
        }
        foreach (var r in runs) r.Run.Start();
        foreach (var r in runs) await r.Run.Completion.WaitAsync(TimeSpan.FromSeconds(120));

        foreach (var (color, run, sink, events) in runs)
        {
            Assert.Equal(StreamStatus.Ended, run.Status);
            Assert.Equal(frames, run.Stats.Frames);
            var confirmed = sink.Tracks.Where(t => t.Id > 0 && t.State == TrackState.Tracked).ToList();
            Assert.NotEmpty(confirmed);
            // From the first confirmed frame on, every track carries the answer, and it is the clip's colour.
            Assert.All(confirmed, t => Assert.Equal(color, t.Classification?.Label));
            Assert.All(confirmed, t => Assert.Equal("classifier.onnx", t.Classification!.Model));
            // First frame, then every 5 hits: the hits it was computed on advance.
            Assert.True(confirmed.Select(t => t.Classification!.ClassifiedAtHits).Distinct().Count() >= 2);
            var evs = sink.Events.ToList();
            var classified = Assert.Single(evs, e => e.Type == EventTypes.TrackClassified); // the label never changes: one event
            Assert.Equal(color, classified.Classification!.Label);
            var ended = Assert.Single(evs, e => e.Type == EventTypes.TrackEnded);
            Assert.Equal(color, ended.Classification!.Label);
            // The events file carries them as attributes.
            var lines = Outputs.JsonLines(events);
            using var endedJson = JsonDocument.Parse(lines.Single(l => l.Contains("\"track_ended\"")));
            var attributes = endedJson.RootElement.GetProperty("attributes");
            Assert.Equal(color, attributes.GetProperty("label").GetString());
            Assert.Equal(3, attributes.GetProperty("top_k").GetArrayLength());
            Assert.Contains(lines, l => l.Contains("\"track_classified\""));
            // Metrics per stream: crops, labels, the stage's time once per frame.
            Assert.True(MetricValues.Value(metrics.ClassifierCrops, color) >= 3);
            Assert.Equal(MetricValues.Value(metrics.ClassifierCrops, color), MetricValues.Value(metrics.ClassifierLabels, color, color));
            Assert.Equal(frames, metrics.StageSeconds.Histogram.WithLabels(color, "classify").Count);
        }
        Assert.Equal(classify.Crops, runs.Sum(r => MetricValues.Value(metrics.ClassifierCrops, r.Color)));
        foreach (var r in runs) await r.Run.DisposeAsync();
        Outputs.AssertNothingRented(pool);
    }

    [Fact]
    public async Task ASegModelsMasksReachTracksZonesEventsAndTheDrawing()
    {
        const int frames = 15;
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        using var detector = OnnxDetector.Load(Model("seg.onnx"));
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, null, metrics);
        // The person's box is x 80..160, y 50..130 and its mask the left three quarters (x 80..140); the zones cover x 130..320.
        (float, float)[] right = [(130, 0), (320, 0), (320, 180), (130, 180)];
        var analytics = new StreamAnalytics(new AnalyticsOptions
        {
            Zones =
            [
                new ZoneOptions { Name = "reach", Polygon = right, Occupancy = ZoneOccupancy.Mask, MinOccupancy = 0.1, Classes = ["person"] },
                new ZoneOptions { Name = "half", Polygon = right, Occupancy = ZoneOccupancy.Mask, MinOccupancy = 0.5, Classes = ["person"] },
                new ZoneOptions { Name = "anchor", Polygon = right, Classes = ["person"] },
            ],
        }, detector.ClassNames);
        var builder = new PipelineBuilder("seg", pool).Metrics(metrics).Source(new SourceOptions { Uri = Clip("black", frames), Mode = SourceMode.File })
            .Detector(batcher).Tracker().Analytics(analytics).Masks(new MaskOptions());
        var sink = new Collector(builder.SinkPool);
        await using var run = builder.Sink(sink).Build();
        run.Start();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(StreamStatus.Ended, run.Status);
        var people = sink.Tracks.Where(t => t.Id > 0 && t.State == TrackState.Tracked && t.ClassId == 0).ToList();
        Assert.NotEmpty(people);
        Assert.All(people, t => Assert.InRange(t.Mask!.Area, 4640, 4656)); // the 60 x 80 rectangle, corners rounded
        var evs = sink.Events.ToList();
        // 10 % of the mask is inside: only the zone asking for 10 % counts the person; its anchor (120, 130) is outside.
        var enter = Assert.Single(evs, e => e.Type == EventTypes.ZoneEnter);
        Assert.Equal("reach", enter.Region);
        Assert.InRange(enter.Polygon!.Count, 8, 32); // the outline travels with the event (x, y pairs)
        var started = evs.First(e => e.Type == EventTypes.TrackStarted && e.ClassName == "person");
        Assert.InRange(started.Polygon!.Count, 8, 32);
        Assert.Contains("\"polygon\":[[", EventJson.Serialize(started, "test"));
        Assert.Equal(frames, metrics.StageSeconds.Histogram.WithLabels("seg", "segment").Count);
        // Drawn: tinted inside the mask, untouched (black) inside the box beside it.
        var (inside, outside) = sink.Drawn!.Value;
        Assert.True(inside.Max() > 60, $"mask pixel {string.Join(",", inside)}");
        Assert.Equal(new byte[3], outside);
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool, builder.SinkPool);
    }
}
