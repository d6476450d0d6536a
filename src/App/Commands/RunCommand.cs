using System.CommandLine;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.Core;

namespace StreamVision.App.Commands;

/// <summary><c>streamvision run -c FILE</c>: the long-running service.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "YAML configuration file (see config/)", Required = true };
        var cmd = new Command("run", "Run the service: every configured stream, the dashboard, the API and /metrics, until Ctrl-C or SIGTERM.") { config };
        cmd.SetAction(async (pr, ct) => await RunAsync(pr.GetValue(config)!, ct).ConfigureAwait(false));
        return cmd;
    }

    public static async Task<int> RunAsync(string path, CancellationToken ct)
    {
        using var loggers = AppLogging.CreateFactory(LogLevel.Information);
        SvConfig config;
        try
        {
            config = ConfigLoader.LoadFile(path);
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine($"run: {path}: {ex.Errors.Count} error(s)");
            foreach (var e in ex.Errors) Console.Error.WriteLine($"  {e}");
            return ExitCodes.Usage;
        }
        // Before the streams start their threads: fewer malloc arenas keep less freed native memory (NativeInfo.CapMallocArenas).
        try
        {
            Native.NativeInfo.CapMallocArenas();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Without the shim no stream can decode either; ServiceHost says so.
        }
        // Signals are taken before the service starts: its API answers before StartAsync returns, and a SIGHUP sent as soon
        // as it answered found no handler yet (the reload was lost; without any handler SIGHUP ends the process). One that
        // comes before the reloader exists is remembered and run once it does.
        int earlyReload = 0;
        using var signals = new ShutdownSignals(() => Interlocked.Exchange(ref earlyReload, 1));
        ServiceHost host;
        try
        {
            host = await ServiceHost.StartAsync(config, loggers, configPath: path, clusterSeeds: ClusterSeeds(config, path)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamVisionException or IOException)
        {
            Console.Error.WriteLine($"run: {ex.Message}");
            return ex is ConfigException or OptionsException ? ExitCodes.Usage : ExitCodes.Failed;
        }
        // One reload at a time (signals during one fold into one more run); every error is logged by the reloader, and the
        // last reload is awaited before the process exits (host.DisposeAsync).
        var reloader = host.Reloader!;
        signals.Reload = () => _ = reloader.RequestAsync();
        if (Interlocked.Exchange(ref earlyReload, 0) == 1) _ = reloader.RequestAsync();
        if (host.Address is not null) Console.WriteLine($"streamvision: {config.Streams.Count} stream(s); dashboard {host.Address}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, signals.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await host.DisposeAsync().ConfigureAwait(false);
        if (host.Manager.NotFinalised is { Count: > 0 } lost)
        {
            Console.Error.WriteLine($"streamvision: stopped, but {lost.Count} output(s) were not finalised:");
            foreach (var l in lost) Console.Error.WriteLine($"  {l}");
            return ExitCodes.Failed;
        }
        Console.WriteLine("streamvision: stopped cleanly");
        return ExitCodes.Ok;
    }

    /// <summary>In a cluster, the file's <c>streams:</c> as written: added to the cluster's list when missing.</summary>
    private static IReadOnlyList<(string Id, string Spec)>? ClusterSeeds(SvConfig config, string path) =>
        config.Cluster is null ? null : Service.StreamSpecs.FromConfigFile(File.ReadAllText(path));
}
