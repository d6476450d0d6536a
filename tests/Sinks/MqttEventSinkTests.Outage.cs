using Microsoft.Extensions.Logging;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>Broker outages: visible in the log, buffered per stream, delivered after; the last will of a dead connection.</summary>
public partial class MqttEventSinkTests
{
    [Fact]
    public async Task AnOutageIsLoggedEachStreamBuffersAndDropsOnItsOwnAndEverythingKeptArrives()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        var log = new ListLogger();
        var connections = new MqttConnections();
        var pool = new FramePool();
        var a = new MqttEventSink(Options(broker.Port), "cam1", log, connections);
        var b = new MqttEventSink(Options(broker.Port, buffer: 4), "cam2", log, connections);
        Assert.True(Poll.Until(() => a.IsConnected && b.IsConnected, s_wait), broker.Log);
        Assert.Contains(log.At(LogLevel.Information), m => m.Contains("connected", StringComparison.Ordinal));

        Assert.Equal(SinkState.Connected, a.Health.State);
        broker.Stop();
        Assert.True(Poll.Until(() => !a.IsConnected && !b.IsConnected, s_wait));
        Assert.Equal(SinkState.Buffering, a.Health.State); // the API and the log say so while it lasts
        Assert.Contains("no connection to mqtt://", a.Health.Reason, StringComparison.Ordinal);
        Assert.True(Poll.Until(() => log.At(LogLevel.Warning).Any(m => m.Contains("connection lost", StringComparison.Ordinal)), s_wait), log.ToString());
        Assert.Single(log.At(LogLevel.Warning), m => m.Contains("connection lost", StringComparison.Ordinal)); // once for the connection, not per stream
        await WriteEventsAsync(a, pool, 0, 6);
        await WriteEventsAsync(b, pool, 100, 6);
        Assert.Equal(6, a.Buffered);
        Assert.Equal(4, b.Buffered);
        Assert.Equal(0, a.DroppedOverflow);
        Assert.Equal(2, b.DroppedOverflow); // the oldest two of cam2, and only of cam2

        broker.Start();
        Assert.True(Poll.Until(() => observer.Payloads(a.EventsTopic).Count >= 6 && observer.Payloads(b.EventsTopic).Count >= 4, s_wait), broker.Log);
        Assert.Equal([0L, 1, 2, 3, 4, 5], Frames(observer.Payloads(a.EventsTopic)));
        Assert.True(Poll.Until(() => a.Health.State == SinkState.Connected, s_wait));
        Assert.Equal([102L, 103, 104, 105], Frames(observer.Payloads(b.EventsTopic)));
        Assert.True(Poll.Until(() => log.At(LogLevel.Information).Any(m => m.Contains("reconnected", StringComparison.Ordinal)), s_wait), log.ToString());
        Assert.Equal(2, a.Connections);
        Assert.Equal(2, b.Connections);
        Assert.Equal(2, broker.ConnectionsOf(a.ClientId)); // one before the outage, one after: still shared

        await a.CompleteAsync(CancellationToken.None);
        await b.CompleteAsync(CancellationToken.None);
        await a.DisposeAsync();
        await b.DisposeAsync();
        Assert.Equal(6, a.Sent);
        Assert.Equal(4, b.Sent);
        Assert.Equal(0, a.Dropped);
        Assert.Equal(2, b.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DrainOnStopDeliversWhatTheBrokerAcceptsOnceItIsBack()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        broker.Stop();
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port) with { DrainTimeoutSeconds = 60 }, "cam1");
        await WriteEventsAsync(sink, pool, 0, 4);
        var drain = sink.CompleteAsync(CancellationToken.None).AsTask();
        Assert.False(drain.IsCompleted); // it waits for the broker (within the drain timeout) rather than dropping
        broker.Start();
        await drain;
        await sink.DisposeAsync();
        Assert.Equal(4, sink.Sent);
        Assert.Equal(0, sink.Dropped);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 4, s_wait), broker.Log);
        Assert.Equal([0L, 1, 2, 3], Frames(observer.Payloads(sink.EventsTopic)));
    }

    [Fact]
    public async Task CancellingTheDrainEndsItLikeTheTimeout_WhatIsLeftIsCountedAndNothingThrows()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        broker.Stop();
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port) with { DrainTimeoutSeconds = 60 }, "cam1", metrics: metrics);
        await WriteEventsAsync(sink, pool, 0, 5);
        using var deadline = new CancellationTokenSource();
        var drain = sink.CompleteAsync(deadline.Token).AsTask();
        Assert.False(drain.IsCompleted); // waiting for the broker, within the 60 s drain time
        deadline.Cancel();
        await drain; // the stop deadline ends the drain without an exception
        Assert.Equal(5, sink.DroppedAtShutdown);
        Assert.Equal(0, sink.Buffered);
        Assert.Contains("sv_sink_events_dropped_total{stream=\"cam1\",sink=\"mqtt\",reason=\"shutdown\"} 5", await MetricValues.CollectAsync(metrics.Registry));
        await sink.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task TheLastWillMarksTheInstanceOfflineWhenTheConnectionDiesAndStreamStatesKeepTheirValue()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        var connections = new MqttConnections();
        var sink = new MqttEventSink(Options(broker.Port), "cam1", null, connections);
        Assert.True(Poll.Until(() => observer.Payloads(sink.InstanceStateTopic!).LastOrDefault() == "online"
            && observer.Payloads(sink.StateTopic!).LastOrDefault() == "online", s_wait), broker.Log);
        Assert.Contains("Will message specified (7 bytes) (r1, q1).", broker.Log, StringComparison.Ordinal);

        // The socket closes without DISCONNECT, as when the process dies: the broker publishes the will.
        await sink.DangerousCrashConnectionAsync();
        Assert.True(Poll.Until(() => observer.Payloads(sink.InstanceStateTopic!).LastOrDefault() == "offline", s_wait), broker.Log);
        Assert.Contains($"Client {sink.ClientId} closed its connection.", broker.Log, StringComparison.Ordinal);
        Assert.Equal("offline", Retained(broker, sink.InstanceStateTopic!));
        // Documented: the stream's own state keeps its last value; the instance state is what says the connection is gone.
        Assert.Equal("online", Retained(broker, sink.StateTopic!));
        Assert.False(sink.IsConnected);
        await sink.DisposeAsync();
        Assert.Equal(0, connections.Count);
    }
}
