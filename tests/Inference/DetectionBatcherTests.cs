using System.Collections.Concurrent;
using System.Diagnostics;
using StreamVision.Core;

namespace StreamVision.Inference.Tests;

public class DetectionBatcherTests
{
    private static readonly TimeSpan s_noHang = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ThreeStreamsGetTheirOwnResultsInOrder()
    {
        const int Streams = 3, FramesPerStream = 24;
        using var detector = new RecordingDetector(OnnxDetector.Load(TestModels.YoloV8));
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 8, MaxWait = TimeSpan.FromMilliseconds(50) });
        // Each stream sees its own sequence of colours (s = 0.2 k), so a result delivered to the wrong stream or out of
        // order has the wrong boxes.
        static int K(int stream, int frame) => (stream * 2 + frame) % 6;
        // All three streams exist before any sends (a lone stream is detected inline, without batching).
        var clients = Enumerable.Range(0, Streams).Select(s => batcher.CreateClient($"cam{s}")).ToArray();
        var tasks = Enumerable.Range(0, Streams).Select(s => Task.Run(async () =>
        {
            using var client = clients[s];
            for (int i = 0; i < FramesPerStream; i++)
            {
                using var frame = TestModels.ForS(K(s, i));
                frame.StreamId = client.StreamId;
                frame.Sequence = i;
                var d = await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang);
                Expect.Equal(Expect.Yolo(K(s, i)), d);
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(s_noHang);

        Assert.Equal(Streams * FramesPerStream, batcher.FramesDetected);
        Assert.True(batcher.Batches < Streams * FramesPerStream, $"{batcher.Batches} batches for {Streams * FramesPerStream} frames: no batching");
        Assert.Equal(batcher.Batches, detector.BatchSizes.Count);
        Assert.All(detector.BatchSizes, n => Assert.InRange(n, 1, Streams));
        // Every frame of a stream came back in order: the detector saw each stream's sequence numbers ascending.
        foreach (var seqs in detector.SequencesByStream.Values) Assert.Equal(Enumerable.Range(0, FramesPerStream).Select(i => (long)i), seqs);
    }

    [Fact]
    public async Task FourStreamsWithMaxBatchFourRunBatchesOfFourOnADynamicBatchModel()
    {
        const int Streams = 4, Rounds = 10;
        var onnx = OnnxDetector.Load(TestModels.YoloV8);
        using var detector = new RecordingDetector(onnx);
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 4, MaxWait = TimeSpan.FromSeconds(1) });
        var clients = Enumerable.Range(0, Streams).Select(s => batcher.CreateClient($"cam{s}")).ToArray();
        var tasks = clients.Select((client, s) => Task.Run(async () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using var frame = TestModels.ForS((s + i) % 6);
                Expect.Equal(Expect.Yolo((s + i) % 6), await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang));
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(s_noHang);

        // A batch closes as soon as all four streams are in it: batches of four frames, one session run each. Only the
        // 1 s wait (the longest max_wait allows) can close one earlier, when a test thread is starved that long on a
        // loaded machine (seen once: 4,4,4,4,4,4,1,...): then that round splits, and the next rounds are whole again.
        var sizes = detector.BatchSizes.ToList();
        Assert.Equal(Streams * Rounds, sizes.Sum());
        Assert.All(sizes, n => Assert.InRange(n, 1, 4));
        Assert.Equal(sizes.Count, onnx.SessionRuns);
        Assert.True(sizes.Count(n => n == 4) >= Rounds / 2, $"batches {string.Join(",", sizes)}");
        Assert.Contains(4, onnx.RunnerBatchSizes);
        if (sizes.All(n => n == 4)) Assert.Equal([4], onnx.RunnerBatchSizes);
        foreach (var c in clients) c.Dispose();
    }

    [Fact]
    public async Task MaxWaitZeroRunsWhateverHasArrived()
    {
        using var detector = OnnxDetector.Load(TestModels.YoloV8);
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 8, MaxWait = TimeSpan.Zero });
        var tasks = Enumerable.Range(0, 3).Select(s => Task.Run(async () =>
        {
            using var client = batcher.CreateClient($"cam{s}");
            for (int i = 0; i < 10; i++)
            {
                using var frame = TestModels.ForS((s + i) % 6);
                Expect.Equal(Expect.Yolo((s + i) % 6), await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang));
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(s_noHang);
        Assert.Equal(30, batcher.FramesDetected);
        Assert.InRange(batcher.Batches, 10, 30);
    }

    [Fact]
    public async Task ASingleStreamDoesNotWaitForMaxWait()
    {
        // MaxWait is 1 s, but with one client every batch is complete as soon as its frame arrives.
        using var detector = OnnxDetector.Load(TestModels.YoloV8);
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 8, MaxWait = TimeSpan.FromSeconds(1) });
        using var client = batcher.CreateClient("file");
        using var frame = TestModels.ForS(3);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) Expect.Equal(Expect.Yolo(3), await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"20 frames took {sw.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task ALeavingStreamNoLongerHoldsBatchesBack()
    {
        using var detector = new RecordingDetector(new FakeDetector());
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 8, MaxWait = TimeSpan.FromSeconds(1) });
        using var stays = batcher.CreateClient("stays");
        var leaves = batcher.CreateClient("leaves");
        using var frame = TestModels.Uniform(8, 8, 0);
        // With two live clients a lone request waits for the other one (up to MaxWait, 1 s)...
        var first = stays.DetectAsync(frame).AsTask();
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        // ...and runs as soon as that one leaves.
        var sw = Stopwatch.StartNew();
        leaves.Dispose();
        leaves.Dispose(); // idempotent
        await first.WaitAsync(s_noHang);
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(600), $"the waiting batch ran {sw.Elapsed.TotalMilliseconds:0} ms after the other stream left");
        for (int i = 0; i < 5; i++) await stays.DetectAsync(frame).AsTask().WaitAsync(s_noHang);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2.5), $"6 frames took {sw.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(Enumerable.Repeat(1, 6), detector.BatchSizes);
        Assert.Throws<ObjectDisposedException>(() => leaves.DetectAsync(frame));
    }

    [Fact]
    public async Task ADetectorErrorFailsOnlyThatBatch()
    {
        var fake = new FakeDetector { FailOnSequence = 3 };
        await using var batcher = new DetectionBatcher(fake, new BatcherOptions { MaxBatch = 4, MaxWait = TimeSpan.Zero });
        using var client = batcher.CreateClient("cam");
        using var frame = TestModels.Uniform(8, 8, 0);
        for (int i = 0; i < 6; i++)
        {
            frame.Sequence = i;
            var task = client.DetectAsync(frame).AsTask().WaitAsync(s_noHang);
            if (i == 3)
            {
                var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => task);
                Assert.Same(fake.LastError, ex);
            }
            else
            {
                Assert.Equal(i, (await task).Count);
            }
        }
        Assert.Equal(6, batcher.Batches);
        Assert.Equal(5, batcher.FramesDetected);
    }

    [Fact]
    public async Task ADetectorReturningTheWrongNumberOfResultsFailsThatBatch()
    {
        var fake = new FakeDetector { ShortResultOnSequence = 1 };
        await using var batcher = new DetectionBatcher(fake, new BatcherOptions { MaxWait = TimeSpan.Zero });
        using var client = batcher.CreateClient("cam");
        using var frame = TestModels.Uniform(8, 8, 0);
        frame.Sequence = 1;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => client.DetectAsync(frame).AsTask().WaitAsync(s_noHang));
        Assert.Contains("returned 0 results for 1 frames", ex.Message);
        frame.Sequence = 2;
        Assert.Equal(2, (await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang)).Count);
    }

    [Fact]
    public async Task DisposeCompletesTheRunningBatchFailsQueuedRequestsAndIsIdempotent()
    {
        using var gate = new ManualResetEventSlim();
        var fake = new FakeDetector { Gate = gate };
        var batcher = new DetectionBatcher(fake, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero });
        var a = batcher.CreateClient("a");
        var b = batcher.CreateClient("b");
        using var frame = TestModels.Uniform(8, 8, 0);
        var running = a.DetectAsync(frame).AsTask();
        Assert.True(fake.Entered.Wait(s_noHang), "the detector never started");
        var queued = b.DetectAsync(frame).AsTask(); // MaxBatch 1: waits behind a's batch
        Assert.Throws<InvalidOperationException>(() => b.DetectAsync(frame)); // one request in flight per client

        var dispose = batcher.DisposeAsync().AsTask();
        Assert.False(dispose.IsCompleted); // waits for the running batch
        gate.Set();
        await dispose.WaitAsync(s_noHang);
        Assert.Equal(0, (await running.WaitAsync(s_noHang)).Count);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued.WaitAsync(s_noHang));

        await batcher.DisposeAsync().AsTask().WaitAsync(s_noHang); // idempotent
        Assert.Throws<ObjectDisposedException>(() => a.DetectAsync(frame));
        Assert.Throws<ObjectDisposedException>(() => batcher.CreateClient("c"));
        Assert.Equal(1, batcher.FramesDetected);
    }

    [Fact]
    public async Task DisposeWithNothingPendingReturnsAtOnce()
    {
        var batcher = new DetectionBatcher(new FakeDetector());
        await batcher.DisposeAsync().AsTask().WaitAsync(s_noHang);
        await batcher.DisposeAsync().AsTask().WaitAsync(s_noHang);
        Assert.Equal(0, batcher.Batches);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<OptionsException>(() => new DetectionBatcher(new FakeDetector(), new BatcherOptions { MaxBatch = 0 }));
        Assert.Throws<OptionsException>(() => new DetectionBatcher(new FakeDetector(), new BatcherOptions { MaxWait = TimeSpan.FromSeconds(2) }));
    }

    /// <summary>Wraps a detector and records every batch it is given.</summary>
    [Fact]
    public async Task NonFiniteDetectionsOfAModelAreCountedInTheMetric()
    {
        var metrics = new PipelineMetrics();
        using var detector = OnnxDetector.Load(TestModels.YoloV8NonFinite);
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, metrics: metrics);
        using var client = batcher.CreateClient("cam");
        for (int i = 0; i < 2; i++)
        {
            using var frame = TestModels.ForS(5);
            frame.StreamId = "cam";
            frame.Sequence = i;
            Expect.Equal(Expect.Yolo(5), await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang));
        }
        Assert.Equal(6, batcher.NonFiniteDropped);
        Assert.Equal(6, metrics.DetectionsNonFinite.WithLabels().Value);
    }

    [Fact]
    public async Task NonFiniteRowsOfAnyDetectorAreDroppedAndCounted()
    {
        var metrics = new PipelineMetrics();
        using var detector = new NonFiniteDetector();
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, metrics: metrics);
        using var client = batcher.CreateClient("cam");
        using var frame = TestModels.ForS(1);
        frame.StreamId = "cam";
        var d = await client.DetectAsync(frame).AsTask().WaitAsync(s_noHang);
        Assert.Equal(1, d.Count);
        Assert.Equal(new Box(1, 2, 11, 12), d.Boxes[0]);
        Assert.Equal(0, d.SourceIndex[0]); // the kept row still names the detector's row it came from
        Assert.Equal(3, batcher.NonFiniteDropped);
        Assert.Equal(3, metrics.DetectionsNonFinite.WithLabels().Value);
    }

    /// <summary>A custom detector whose every frame gives one good row and three broken ones (NaN box, infinite score, infinite box).</summary>
    private sealed class NonFiniteDetector : IDetector
    {
        public string Name => "nonfinite";
        public IReadOnlyList<string> ClassNames => ["thing"];
        public int MaxBatch => 1;

        public Detections[] Detect(IReadOnlyList<Frame> frames) => frames.Select(_ => new Detections(
            [new Box(1, 2, 11, 12), new Box(float.NaN, 2, 11, 12), new Box(1, 2, 11, 12), new Box(1, 2, float.PositiveInfinity, 12)],
            [0.9f, 0.9f, float.PositiveInfinity, 0.8f], [0, 0, 0, 0])).ToArray();

        public void Dispose()
        {
        }
    }

    private sealed class RecordingDetector(IDetector inner) : IDetector
    {
        public ConcurrentQueue<int> BatchSizes { get; } = new();
        public ConcurrentDictionary<string, List<long>> SequencesByStream { get; } = new();
        public string Name => inner.Name;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public int MaxBatch => inner.MaxBatch;

        public Detections[] Detect(IReadOnlyList<Frame> frames)
        {
            BatchSizes.Enqueue(frames.Count);
            foreach (var f in frames) SequencesByStream.GetOrAdd(f.StreamId, _ => new()).Add(f.Sequence);
            return inner.Detect(frames);
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>A model-free detector: frame with sequence n gives n boxes; can fail, return too few results, or block.</summary>
    private sealed class FakeDetector : IDetector
    {
        public long FailOnSequence { get; init; } = -1;
        public long ShortResultOnSequence { get; init; } = -1;
        public ManualResetEventSlim? Gate { get; init; }
        public ManualResetEventSlim Entered { get; } = new();
        public Exception? LastError { get; private set; }
        public string Name => "fake";
        public IReadOnlyList<string> ClassNames => ["thing"];
        public int MaxBatch => 64;

        public Detections[] Detect(IReadOnlyList<Frame> frames)
        {
            Entered.Set();
            Gate?.Wait();
            if (frames.Any(f => f.Sequence == FailOnSequence)) throw LastError = new InvalidOperationException("fake failure");
            if (frames.Any(f => f.Sequence == ShortResultOnSequence)) return [];
            return frames.Select(f =>
            {
                int n = (int)f.Sequence;
                return new Detections(Enumerable.Range(0, n).Select(i => new Box(i, 0, i + 1, 1)).ToArray(), new float[n], new int[n]);
            }).ToArray();
        }

        public void Dispose() => Entered.Dispose();
    }

    [Fact]
    public async Task ALoneStreamIsDetectedInlineAndASecondStreamBringsBackTheLoop()
    {
        using var detector = new RecordingDetector(OnnxDetector.Load(TestModels.YoloV8));
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 8, MaxWait = TimeSpan.FromMilliseconds(20) });
        using var a = batcher.CreateClient("a");
        using var frame = TestModels.ForS(1);
        frame.StreamId = "a";
        var t = a.DetectAsync(frame);
        Assert.True(t.IsCompletedSuccessfully, "a lone stream's request completes on the caller's thread");
        Expect.Equal(Expect.Yolo(1), await t);
        using (var b = batcher.CreateClient("b"))
        {
            var viaLoop = a.DetectAsync(frame);
            Expect.Equal(Expect.Yolo(1), await viaLoop.AsTask().WaitAsync(s_noHang));
        }
        Assert.Equal(2, batcher.FramesDetected);
    }
}
