using System.Collections.Concurrent;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Pipeline;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.PublicApi.Tests;

/// <summary>
/// A detector written outside StreamVision: one box per frame that follows the frame number, scored from the pixels
/// (the mean of the frame's middle row), so the test can tell its detections from anyone else's.
/// </summary>
public sealed class RowMeanDetector : IDetector
{
    public ConcurrentDictionary<long, (Box Box, float Score)> Produced { get; } = new();

    public string Name => "row-mean";
    public IReadOnlyList<string> ClassNames { get; } = ["pattern"];
    public int MaxBatch => 2;

    public Detections[] Detect(IReadOnlyList<Frame> frames)
    {
        var result = new Detections[frames.Count];
        for (int i = 0; i < frames.Count; i++)
        {
            var f = frames[i];
            var row = f.GetRowSpan(f.Height / 2)[..(f.Width * 3)];
            long sum = 0;
            foreach (byte b in row) sum += b;
            // 0.8..1: a confident detector (the tracker starts tracks from score 0.8 by default).
            float score = 0.8f + 0.2f * (sum / (float)row.Length / 255f);
            var box = new Box(20 + 2 * f.Sequence, 40, 100 + 2 * f.Sequence, 120);
            Produced[f.Sequence] = (box, score);
            result[i] = new Detections([box], [score], [0]);
        }
        return result;
    }

    public void Dispose()
    {
    }
}

/// <summary>A sink written outside StreamVision: records what it sees and keeps the latest frame past the call (AddRef).</summary>
public sealed class CollectingSink : ISink
{
    private AnalyzedFrame? _kept;

    public List<(long Sequence, Box[] Boxes, float[] Scores, Track[] Tracks)> Frames { get; } = new();
    public int EventsSeen { get; private set; }
    public bool Completed { get; private set; }
    public bool Disposed { get; private set; }

    public string Name => "collector";

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        EventsSeen += item.Events.Count;
        if (item.EventsOnly) return ValueTask.CompletedTask;
        Frames.Add((item.Frame.Sequence, item.Detections.Boxes.ToArray(), item.Detections.Scores.ToArray(), item.Tracks.ToArray()));
        // The item is borrowed for the call: a sink that needs the pixels later takes a reference of its own.
        _kept?.Dispose();
        _kept = item.AddRef();
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(CancellationToken ct)
    {
        _kept?.Dispose();
        _kept = null;
        Completed = true;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _kept?.Dispose();
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

public class CustomStagesTests
{
    [Fact]
    public async Task ACustomDetectorAndSinkRunThroughTheBuilderAsALibraryUserWouldWriteThem()
    {
        const int frames = 40;
        string clip = TestMedia.H264(320, 240, frames);
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 8L << 20 });
        var detector = new RowMeanDetector();
        var metrics = new PipelineMetrics();
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 2, MaxWait = TimeSpan.FromMilliseconds(2) }, null, metrics);
        var sink = new CollectingSink();

        await using (var run = new PipelineBuilder("library", pool)
            .Metrics(metrics)
            .Source(new SourceOptions { Uri = clip })
            .Detector(batcher)
            .Tracker()
            .Sink(sink)
            .Build()
            .Start())
        {
            await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(StreamStatus.Ended, run.Status);
            Assert.Equal(frames, run.Stats.Frames);
            Assert.Equal(frames, run.Stats.Detections);
        }

        // Every frame, in order, with exactly the detector's detections.
        Assert.Equal(frames, sink.Frames.Count);
        Assert.Equal(sink.Frames.Select(f => f.Sequence).Order(), sink.Frames.Select(f => f.Sequence));
        foreach (var f in sink.Frames)
        {
            var (box, score) = detector.Produced[f.Sequence];
            Assert.Equal([box], f.Boxes);
            Assert.Equal([score], f.Scores);
        }
        // The tracker followed the one object: once confirmed (within a few frames), one id on every frame, each track row
        // pointing back at its detection.
        // A track starts at the first detection scored at least the tracker's NewTrackScore and is confirmed after MinHits.
        var defaults = new ByteTrackerOptions();
        int born = sink.Frames.FindIndex(f => f.Scores[0] >= defaults.NewTrackScore);
        Assert.True(born >= 0, "some frame scores high enough to start a track");
        int confirmed = sink.Frames.FindIndex(f => f.Tracks.Any(t => t.Id > 0));
        Assert.InRange(confirmed, born, born + defaults.MinHits);
        var ids = sink.Frames.Skip(confirmed).SelectMany(f => f.Tracks.Where(t => t.Id > 0).Select(t => t.Id)).Distinct().ToList();
        Assert.Single(ids);
        Assert.All(sink.Frames.Skip(confirmed), f => Assert.Contains(f.Tracks, t => t.Id == ids[0] && t.State == TrackState.Tracked && t.DetectionIndex == 0));
        Assert.True(sink.EventsSeen >= 2); // track_started, and track_ended when the file ended
        Assert.True(sink.Completed);
        Assert.True(sink.Disposed);
        Assert.Equal(0, pool.Outstanding); // every frame, the one the sink kept included, went back to the pool
    }
}
