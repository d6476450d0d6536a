using Microsoft.Extensions.Logging;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// The MQTT connections of one instance: sinks whose options name the same broker (host, port) and client id share one
/// connection, which the last of them closes when it stops. Sharing also needs the same credentials, TLS settings,
/// protocol, keep-alive, timeouts, backoff and instance state topic: a sink that differs is refused with an
/// <see cref="OptionsException"/> naming the key (two connections under one client id would take each other over on
/// the broker). Thread-safe.
/// </summary>
public sealed class MqttConnections
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Host, int Port, string ClientId), MqttConnection> _open = new();
    private readonly Dictionary<(string Host, int Port, string ClientId), Task> _closing = new();

    /// <summary>The process-wide registry, used by sinks not given one.</summary>
    public static MqttConnections Shared { get; } = new();

    /// <summary>Connections open now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _open.Count;
        }
    }

    /// <summary>Joins <paramref name="sink"/> to the connection its options name, opening it when it is the first.</summary>
    /// <exception cref="OptionsException">The options clash with the open connection under the same client id, or a TLS file cannot be read.</exception>
    internal MqttConnection Attach(MqttEventSink sink, MqttOptions options, string clientId, ILogger logger, string path)
    {
        var key = (options.Host.ToLowerInvariant(), options.Port, clientId);
        lock (_gate)
        {
            if (_open.TryGetValue(key, out var open))
            {
                CheckCompatible(open, options, path);
                open.Attach(sink);
                return open;
            }
            var predecessor = _closing.TryGetValue(key, out var closing) ? closing : Task.CompletedTask;
            var connection = new MqttConnection(options, clientId, logger, predecessor, path);
            _open[key] = connection;
            connection.Attach(sink);
            connection.Start();
            return connection;
        }
    }

    /// <summary>The sink leaves its connection; the last one out closes it (instance state offline, clean disconnect).</summary>
    internal async Task DetachAsync(MqttEventSink sink, MqttConnection connection)
    {
        var key = (connection.Options.Host.ToLowerInvariant(), connection.Options.Port, connection.ClientId);
        Task stop;
        lock (_gate)
        {
            if (!connection.Detach(sink)) return;
            if (_open.TryGetValue(key, out var c) && ReferenceEquals(c, connection)) _open.Remove(key);
            // A connection opened under the same client id meanwhile waits for this goodbye, so the broker never sees the
            // new connection's "online" before the old one's "offline".
            stop = connection.StopAsync();
            _closing[key] = stop;
        }
        try
        {
            await stop.ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                if (_closing.TryGetValue(key, out var t) && ReferenceEquals(t, stop)) _closing.Remove(key);
            }
        }
    }

    private static void CheckCompatible(MqttConnection open, MqttOptions o, string path)
    {
        var a = open.Options;
        string? key =
            a.Username != o.Username || a.Password != o.Password ? "username" :
            a.Tls != o.Tls ? "tls" :
            a.Protocol != o.Protocol ? "protocol" :
            a.KeepAliveSeconds != o.KeepAliveSeconds ? "keepalive_seconds" :
            a.ConnectTimeoutSeconds != o.ConnectTimeoutSeconds ? "connect_timeout_seconds" :
            a.ReconnectDelaySeconds != o.ReconnectDelaySeconds ? "reconnect_delay_seconds" :
            a.MaxReconnectDelaySeconds != o.MaxReconnectDelaySeconds ? "max_reconnect_delay_seconds" :
            Expand(a) != Expand(o) ? "instance_state_topic" : null;
        if (key is null) return;
        throw new OptionsException($"{path}.{key}",
            $"differs from another stream's MQTT sink connected to {open.Broker} as client id '{open.ClientId}'; streams share that connection, " +
            "so use the same value, or give this stream its own client_id (e.g. streamvision-{instance}-{stream})");
    }

    private static string? Expand(MqttOptions o) =>
        string.IsNullOrEmpty(o.InstanceStateTopic) ? null : MqttOptions.ExpandTopic(o.InstanceStateTopic, o.InstanceId, "");
}
