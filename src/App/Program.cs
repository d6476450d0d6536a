using System.CommandLine;
using StreamVision.App.Commands;

namespace StreamVision.App;

public static class Program
{
    public static int Main(string[] args) =>
        // Signals are ours (ShutdownSignals): a first Ctrl-C drains and finalises, a second exits at once.
        BuildRoot().Parse(args).Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null });

    /// <summary>Every verb with its options (the deployment test parses the container's command lines with it).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("StreamVision: real-time video analytics (decode, detect, track, count, publish).");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        root.Subcommands.Add(AnnotateCommand.Create());
        root.Subcommands.Add(TrackCommands.CreateTrack());
        root.Subcommands.Add(TrackCommands.CreateEval());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        return root;
    }
}
