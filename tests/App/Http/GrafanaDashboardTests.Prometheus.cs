namespace StreamVision.App.Tests.Http;

public partial class GrafanaDashboardTests
{
    [Fact]
    public async Task ARealPrometheusScrapingTheServiceAnswersEveryDashboardQueryWithData()
    {
        // Prometheus 2.42 hands its first targets to the scraper only after 5 s (service discovery's update period): start it
        // first, on the port the service will listen on, and let that time pass while the service starts.
        int port = MosquittoBroker.FreePort();
        using var prometheus = new PrometheusServer([$"127.0.0.1:{port}"], TimeSpan.FromSeconds(1));
        var ready = prometheus.StartAsync();
        await using var host = await StartServiceAsync(port);
        await ready;
        await prometheus.WaitForTargetsUpAsync(1, TimeSpan.FromSeconds(30));

        var queries = Queries().Select(SubstituteVariables).Distinct().ToList();
        var answers = new Dictionary<string, List<PrometheusServer.Sample>>();
        // rate() needs two scrapes of a series and some series start with the first track: poll until each query has data.
        try
        {
            await Poll.UntilAsync(async () =>
            {
                foreach (var q in queries.Where(q => !answers.ContainsKey(q)))
                {
                    var result = await prometheus.QueryAsync(q);
                    if (result.Count > 0 && result.All(s => !double.IsNaN(s.Value))) answers[q] = result;
                }
                return answers.Count == queries.Count;
            }, TimeSpan.FromSeconds(60), "every dashboard query answered");
        }
        catch (TimeoutException)
        {
        }
        var unanswered = queries.Where(q => !answers.ContainsKey(q)).ToList();
        Assert.True(unanswered.Count == 0, $"no data (or NaN) from Prometheus for: {string.Join(" | ", unanswered)}\n{prometheus.Log}");

        // The figures are the service's own, not just present.
        var analysed = answers[queries.Single(q => q.Contains("sv_frames_analyzed_total", StringComparison.Ordinal))];
        Assert.Contains(analysed, s => s.Labels.GetValueOrDefault("stream") == Stream && s.Value > 0);
        var tracks = answers[queries.Single(q => q.Contains("sv_tracker_active_tracks", StringComparison.Ordinal))];
        Assert.Equal(1, tracks.Single(s => s.Labels.GetValueOrDefault("stream") == Stream).Value); // the one still object
        var events = answers[queries.Single(q => q.Contains("sv_events_total", StringComparison.Ordinal))];
        Assert.Contains(events, s => s.Labels.GetValueOrDefault("type") == "track_started");
        Assert.True(await prometheus.SeriesCountAsync(InstanceVariableMetric()) > 0, "the instance variable's metric has series");
    }
}
