using StreamVision.Core;

namespace StreamVision.Core.Tests;

public class PipelineMetricsTests
{
    [Fact]
    public async Task ExportsCountersWithTotalHistogramsWithSecondBucketsAndGauges()
    {
        var m = new PipelineMetrics();
        m.FramesDecoded.WithLabels("a").Inc(3);
        m.StageSeconds.WithLabels("a", "detect").Observe(0.004);
        m.InferenceBatchSize.WithLabels().Observe(3);
        m.StreamUp.WithLabels("a").Set(1);
        string text = await MetricValues.CollectAsync(m.Registry);

        Assert.Contains("# TYPE sv_frames_decoded_total counter\n", text);
        Assert.Contains("sv_frames_decoded_total{stream=\"a\"} 3\n", text);
        Assert.Contains("# TYPE sv_stage_seconds histogram\n", text);
        Assert.Contains("sv_stage_seconds_bucket{stream=\"a\",stage=\"detect\",le=\"0.0025\"} 0\n", text);
        Assert.Contains("sv_stage_seconds_bucket{stream=\"a\",stage=\"detect\",le=\"0.005\"} 1\n", text);
        Assert.Contains("sv_stage_seconds_count{stream=\"a\",stage=\"detect\"} 1\n", text);
        Assert.Contains("sv_inference_batch_size_bucket{le=\"2\"} 0\n", text);
        Assert.Contains("sv_inference_batch_size_bucket{le=\"4\"} 1\n", text);
        Assert.Contains("# TYPE sv_stream_up gauge\n", text);
        Assert.Contains("sv_stream_up{stream=\"a\"} 1\n", text);
    }

    [Fact]
    public async Task RemoveStreamTakesEverySeriesOfThatStreamAndNoOther()
    {
        var m = new PipelineMetrics();
        foreach (var s in new[] { "a", "b" })
        {
            m.FramesDropped.WithLabels(s, "ingest", "queue_full").Inc();
            m.EndToEndSeconds.WithLabels(s).Observe(0.1);
            m.SinkQueueDepth.WithLabels(s, "video").Set(2);
            m.Events.WithLabels(s, "track_started").Inc();
        }
        m.InferenceSeconds.WithLabels().Observe(0.01);

        m.RemoveStream("a");
        string text = await MetricValues.CollectAsync(m.Registry);

        Assert.DoesNotContain("stream=\"a\"", text);
        Assert.Contains("sv_frames_dropped_total{stream=\"b\",stage=\"ingest\",reason=\"queue_full\"} 1\n", text);
        Assert.Contains("sv_end_to_end_latency_seconds_count{stream=\"b\"} 1\n", text);
        Assert.Contains("sv_sink_queue_depth{stream=\"b\",sink=\"video\"} 2\n", text);
        Assert.Contains("sv_events_total{stream=\"b\",type=\"track_started\"} 1\n", text);
        Assert.Contains("sv_inference_seconds_count 1\n", text);
    }

    [Fact]
    public async Task CollectCallbacksRunAtEachCollectionUntilDisposed()
    {
        var m = new PipelineMetrics();
        var depth = m.QueueDepth.WithLabels("a", "ingest");
        int level = 5;
        var registration = m.OnCollect(() => depth.Set(level));
        Assert.Contains("sv_queue_depth{stream=\"a\",stage=\"ingest\"} 5\n", await MetricValues.CollectAsync(m.Registry));
        level = 7;
        Assert.Contains("sv_queue_depth{stream=\"a\",stage=\"ingest\"} 7\n", await MetricValues.CollectAsync(m.Registry));
        registration.Dispose();
        level = 9;
        Assert.Contains("sv_queue_depth{stream=\"a\",stage=\"ingest\"} 7\n", await MetricValues.CollectAsync(m.Registry));
    }

    [Fact]
    public void HistogramListenersGetEachObservationWithItsLabelsUntilDisposed()
    {
        var m = new PipelineMetrics();
        var seen = new List<(string Stream, string Stage, double Value)>();
        var series = m.StageSeconds.WithLabels("a", "track");
        using (m.StageSeconds.Listen((s, v) => seen.Add((s.Label("stream"), s.Label("stage"), v))))
        {
            series.Observe(0.25);
            series.Observe(0.5);
        }
        series.Observe(1);
        Assert.Equal([("a", "track", 0.25), ("a", "track", 0.5)], seen);
        Assert.Equal(3, series.Child.Count);
        Assert.Equal(1.75, series.Child.Sum);
        Assert.Equal("", series.Label("sink"));
    }

    [Fact]
    public async Task RegistriesAreIndependent()
    {
        var one = new PipelineMetrics();
        var two = new PipelineMetrics();
        one.FramesAnalyzed.WithLabels("a").Inc(5);
        two.FramesAnalyzed.WithLabels("a").Inc(2);
        two.RemoveStream("a");
        Assert.Contains("sv_frames_analyzed_total{stream=\"a\"} 5\n", await MetricValues.CollectAsync(one.Registry));
        Assert.DoesNotContain("stream=\"a\"", await MetricValues.CollectAsync(two.Registry));
    }
}
