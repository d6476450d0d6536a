using System.CommandLine;
using StreamVision.App.Commands;

namespace StreamVision.App;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("StreamVision: real-time video analytics (decode, detect, track, count, publish).");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        return root.Parse(args).Invoke();
    }
}
