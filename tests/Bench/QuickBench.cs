using StreamVision.Bench;

namespace StreamVision.Bench.Tests;

/// <summary>One quick run (<c>--quick --runs 1</c>) of the named benchmarks into a temp folder, as the bench command runs them.</summary>
internal static class QuickBench
{
    public static async Task<(BenchReport Report, IReadOnlyList<BenchTable> Tables, string Output)> RunAsync(params string[] names)
    {
        string dir = TestEnvironment.NewTempDir();
        var options = new BenchOptions
        {
            Only = new HashSet<string>(names),
            Quick = true,
            Runs = 1,
            JsonPath = Path.Combine(dir, "results.json"),
            WorkDir = Path.Combine(dir, "work"),
        };
        var output = new StringWriter();
        var report = await BenchRunner.RunAsync(options, output, new StringWriter(), CancellationToken.None);
        Assert.True(report.Errors.Count == 0, string.Join("\n", report.Errors));
        return (report, BenchReport.FromJson(File.ReadAllText(options.JsonPath)).Tables, output.ToString());
    }
}
