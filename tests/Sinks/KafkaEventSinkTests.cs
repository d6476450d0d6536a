using System.Text.Json;
using StreamVision.Core;
using StreamVision.Sinks.Tests.Support;

namespace StreamVision.Sinks.Tests;

/// <summary>
/// librdkafka's mock broker, set down and up again, listens anew on the port it had; a port this process picked for
/// another server (FreePort, then mosquitto binds it) could be given to the mock in between and make that listen fail,
/// which librdkafka treats as fatal. These tests run on their own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KafkaMockCollection
{
    public const string Name = "librdkafka mock cluster";
}

/// <summary>
/// Against librdkafka's built-in mock cluster (no Kafka broker can be installed here), read back by a real consumer;
/// brokers are taken down and up through librdkafka's mock API.
/// </summary>
[Collection(KafkaMockCollection.Name)]
public class KafkaEventSinkTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private static AnalyticsEvent Event(string stream, long frame) => new()
    {
        Type = EventTypes.LineCrossed, StreamId = stream, Time = DateTimeOffset.UtcNow, Pts = TimeSpan.FromMilliseconds(40 * frame),
        FrameSequence = frame, TrackId = (int)frame + 1, ClassName = "person", Region = "door", Direction = "in",
    };

    private static async Task WriteEventsAsync(ISink sink, string stream, FramePool pool, long from, int count)
    {
        for (long i = from; i < from + count; i++)
        {
            using var item = SinkTestData.Item(pool, i, events: [Event(stream, i)]);
            await sink.WriteAsync(item, CancellationToken.None);
        }
    }

    private static KafkaOptions Options(KafkaMockCluster cluster) => new()
    {
        Brokers = cluster.Bootstrap, InstanceId = "node-a", DrainTimeoutSeconds = 10,
        // Tests want outages noticed and retried quickly.
        Properties = new Dictionary<string, string> { ["reconnect.backoff.ms"] = "50", ["reconnect.backoff.max.ms"] = "200" },
    };

    [Fact]
    public async Task EventsArriveKeyedByStreamInOrderOverOneSharedIdempotentProducer()
    {
        using var cluster = new KafkaMockCluster(brokers: 3);
        cluster.CreateTopic("streamvision.events", 4);
        var producers = new KafkaProducers();
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var a = new KafkaEventSink(Options(cluster), "gate-1", producers: producers, metrics: metrics);
        var b = new KafkaEventSink(Options(cluster), "gate-2", producers: producers, metrics: metrics);
        Assert.Equal(1, producers.Count);
        Assert.Equal("streamvision.events", a.Topic);

        await Task.WhenAll(WriteEventsAsync(a, "gate-1", pool, 0, 300), WriteEventsAsync(b, "gate-2", pool, 0, 200));
        Assert.True(Poll.Until(() => a.Sent == 300 && b.Sent == 200, s_wait), $"sent {a.Sent} + {b.Sent}");
        Assert.True(a.IsConnected);

        var messages = cluster.Consume("streamvision.events", 4, 500, s_wait);
        Assert.Equal(500, messages.Count);
        foreach (var stream in new[] { "gate-1", "gate-2" })
        {
            var mine = messages.Where(m => m.Message.Key == stream).ToList();
            Assert.Single(mine.Select(m => m.Partition.Value).Distinct()); // one key, one partition: the stream's order holds
            var frames = mine.OrderBy(m => m.Offset.Value).Select(m => JsonDocument.Parse(m.Message.Value).RootElement.GetProperty("frame").GetInt64());
            Assert.Equal(Enumerable.Range(0, stream == "gate-1" ? 300 : 200).Select(i => (long)i), frames);
        }
        var first = JsonDocument.Parse(messages[0].Message.Value).RootElement;
        Assert.Equal("streamvision.event/1", first.GetProperty("schema").GetString());
        Assert.Equal("node-a", first.GetProperty("instance").GetString());

        // Delivery reports are counted per stream; the buffer is empty; the connection is up.
        var text = await MetricValues.CollectAsync(metrics.Registry);
        Assert.Contains("sv_sink_events_sent_total{stream=\"gate-1\",sink=\"kafka\"} 300", text);
        Assert.Contains("sv_sink_events_sent_total{stream=\"gate-2\",sink=\"kafka\"} 200", text);
        Assert.Contains("sv_sink_event_buffer_depth{stream=\"gate-1\",sink=\"kafka\"} 0", text);
        Assert.Contains("sv_sink_connected{stream=\"gate-1\",sink=\"kafka\"} 1", text);

        await a.CompleteAsync(CancellationToken.None);
        await a.DisposeAsync();
        Assert.Equal(1, producers.Count); // b still uses it
        await b.CompleteAsync(CancellationToken.None);
        await b.DisposeAsync();
        Assert.Equal(0, producers.Count);
        Assert.Equal(0, a.Dropped + b.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task WhileTheBrokersAreAwayABoundedBufferHoldsTheNewestAndDropsAreCounted()
    {
        using var cluster = new KafkaMockCluster(brokers: 1);
        cluster.CreateTopic("streamvision.node-a", 1);
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var sink = new KafkaEventSink(Options(cluster) with { Topic = "streamvision.{instance}", BufferCapacity = 50, MaxInflight = 10 },
            "dock", producers: new KafkaProducers(), metrics: metrics);
        Assert.Equal("streamvision.node-a", sink.Topic);
        await WriteEventsAsync(sink, "dock", pool, 0, 20);
        Assert.True(Poll.Until(() => sink.Sent == 20, s_wait));

        cluster.AllDown();
        Assert.True(Poll.Until(() => !sink.IsConnected, s_wait), "the producer noticed the brokers are gone");
        // 10 go to the producer and wait there; of the 200 after them the buffer keeps the newest 50 and drops 150.
        await WriteEventsAsync(sink, "dock", pool, 20, 10);
        Assert.True(Poll.Until(() => sink.InFlight == 10, s_wait), $"in flight {sink.InFlight}");
        await WriteEventsAsync(sink, "dock", pool, 30, 200);
        Assert.Equal(60, sink.Buffered);
        Assert.Equal(150, sink.DroppedOverflow);
        var text = await MetricValues.CollectAsync(metrics.Registry);
        Assert.Contains("sv_sink_events_dropped_total{stream=\"dock\",sink=\"kafka\",reason=\"overflow\"} 150", text);
        Assert.Contains("sv_sink_event_buffer_depth{stream=\"dock\",sink=\"kafka\"} 60", text);
        Assert.Contains("sv_sink_connected{stream=\"dock\",sink=\"kafka\"} 0", text);

        cluster.AllUp();
        Assert.True(Poll.Until(() => sink.Sent == 80, s_wait), $"sent {sink.Sent}");
        var frames = cluster.Consume("streamvision.node-a", 1, 80, s_wait)
            .Select(m => JsonDocument.Parse(m.Message.Value).RootElement.GetProperty("frame").GetInt64()).ToList();
        // Delivered: the first 20, the 10 in flight (20..29) and the newest 50 (180..229), once each, in order.
        Assert.Equal(Enumerable.Range(0, 30).Concat(Enumerable.Range(180, 50)).Select(i => (long)i), frames);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(150, sink.Dropped);
    }

    [Fact]
    public async Task EventsTheBrokersNeverAcknowledgeFailAfterTheDeliveryTimeoutAndAreCounted()
    {
        using var cluster = new KafkaMockCluster(brokers: 1);
        cluster.CreateTopic("streamvision.events", 1);
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var sink = new KafkaEventSink(Options(cluster) with { DeliveryTimeoutSeconds = 1, DrainTimeoutSeconds = 0 }, "yard",
            producers: new KafkaProducers(), metrics: metrics);
        // One event acknowledged while the brokers are up. On a loaded machine the producer's start (metadata, its idempotent
        // producer id) outlasted the 1 s delivery timeout and the first event failed: another is written until one is sent.
        int written = 0;
        do
        {
            await WriteEventsAsync(sink, "yard", pool, written++, 1);
            Assert.True(Poll.Until(() => sink.Sent + sink.DroppedFailed == written, s_wait), $"event {written}: sent {sink.Sent}, failed {sink.DroppedFailed}");
        }
        while (sink.Sent == 0 && written < 10);
        Assert.Equal(1, sink.Sent);
        long failedBefore = sink.DroppedFailed;
        cluster.AllDown();
        await WriteEventsAsync(sink, "yard", pool, written, 5);
        Assert.True(Poll.Until(() => sink.DroppedFailed == failedBefore + 5, s_wait), $"failed {sink.DroppedFailed} (before the outage {failedBefore})");
        Assert.Contains($"sv_sink_events_dropped_total{{stream=\"yard\",sink=\"kafka\",reason=\"failed\"}} {failedBefore + 5}",
            await MetricValues.CollectAsync(metrics.Registry));
        Assert.Equal(0, sink.Buffered);
        await sink.DisposeAsync();
    }

    [Fact]
    public async Task StoppingWithTheBrokersAwayDropsWhatIsLeftAfterTheDrainTimeoutAndCountsIt()
    {
        using var cluster = new KafkaMockCluster(brokers: 1);
        var pool = new FramePool();
        var sink = new KafkaEventSink(Options(cluster) with { DrainTimeoutSeconds = 0.5 }, "lane", producers: new KafkaProducers());
        cluster.AllDown();
        await WriteEventsAsync(sink, "lane", pool, 0, 30);
        await sink.CompleteAsync(CancellationToken.None);
        Assert.Equal(30, sink.DroppedAtShutdown);
        using var late = SinkTestData.Item(pool, 99, events: [Event("lane", 99)]);
        await sink.WriteAsync(late, CancellationToken.None);
        Assert.Equal(31, sink.DroppedAtShutdown);
        await sink.DisposeAsync();
    }

    [Fact]
    public async Task CancellingTheDrainEndsItLikeTheTimeout_WhatIsLeftIsCountedAndNothingThrows()
    {
        using var cluster = new KafkaMockCluster(brokers: 1);
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var sink = new KafkaEventSink(Options(cluster) with { DrainTimeoutSeconds = 60 }, "gate", producers: new KafkaProducers(), metrics: metrics);
        cluster.AllDown();
        await WriteEventsAsync(sink, "gate", pool, 0, 12);
        using var deadline = new CancellationTokenSource();
        var drain = sink.CompleteAsync(deadline.Token).AsTask();
        Assert.False(drain.IsCompleted); // waiting for the brokers, within the 60 s drain time
        deadline.Cancel();
        // The stop deadline ends the drain without an exception (it used to throw and leave the sink running), and the
        // producer is closed without flushing for the 60 s drain time again (this test took 60 s): 30 s is a safety net.
        await drain.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(12, sink.DroppedAtShutdown);
        Assert.Equal(0, sink.Buffered);
        Assert.Contains("sv_sink_events_dropped_total{stream=\"gate\",sink=\"kafka\",reason=\"shutdown\"} 12", await MetricValues.CollectAsync(metrics.Registry));
        await sink.DisposeAsync();
    }
}
