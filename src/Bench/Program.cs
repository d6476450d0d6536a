using System.CommandLine;

namespace StreamVision.Bench;

/// <summary>
/// <c>streamvision-bench bench ...</c> (what <c>./streamvision bench</c> runs): benchmarks live in their own program so the
/// service executable carries none of their code.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("StreamVision benchmarks: every stage and the whole pipeline against baselines measured in the same run.");
        root.Subcommands.Add(BenchCommand.Create());
        return root.Parse(args).Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
