namespace StreamVision.Cluster;

/// <summary>
/// What the coordinator asks of the instance it runs in: start and stop the streams it owns. The service implements it
/// over its stream manager (the one way streams are built and stopped).
/// </summary>
public interface IStreamRunner
{
    /// <summary>Starts stream <paramref name="id"/> from its definition. Throws when it cannot (the fleet view reports it as failed).</summary>
    Task StartAsync(string id, string spec, CancellationToken ct);

    /// <summary>Stops (draining, outputs finalised) and removes stream <paramref name="id"/>; nothing when it does not run here.</summary>
    Task StopAsync(string id);

    /// <summary>Stops every stream at once, in parallel (sources first): the lease is about to run out.</summary>
    Task StopAllAsync();
}
