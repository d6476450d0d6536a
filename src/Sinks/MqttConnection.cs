using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// One live MQTT connection of a <see cref="MqttConnection"/>, from CONNACK to its loss. <see cref="Lost"/> fires when it
/// ends. Publishes take a slot (<see cref="AcquireAsync"/>) so the broker's receive maximum is never exceeded, whatever
/// the number of streams sharing the connection.
/// </summary>
internal sealed class MqttSession
{
    private readonly CancellationTokenSource _lost = new();
    private readonly SemaphoreSlim _slots;

    public MqttSession(IMqttClient client, MqttProtocol protocol, int receiveMaximum)
    {
        Client = client;
        Protocol = protocol;
        _slots = new SemaphoreSlim(receiveMaximum, receiveMaximum);
    }

    public IMqttClient Client { get; }
    public MqttProtocol Protocol { get; }
    public CancellationToken Lost => _lost.Token;
    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Waits for a free slot of the broker's receive maximum; every successful call is paired with <see cref="Release"/>.</summary>
    public Task AcquireAsync(CancellationToken ct) => _slots.WaitAsync(ct);

    public void Release() => _slots.Release();

    public void MarkLost() => _lost.Cancel();
}

/// <summary>
/// The connection to one broker under one client id, shared by every stream sink of an instance that names them
/// (reference-counted by <see cref="MqttConnections"/>; the last sink to leave closes it). It connects, reconnects with
/// capped exponential backoff, publishes the retained instance state (<c>online</c> when up, <c>offline</c> on a clean
/// stop, and as the last will the broker sends when the connection dies) and hands each live <see cref="MqttSession"/>
/// to the sinks, which publish over it themselves. Logs a warning when the connection drops and an info when it returns.
/// </summary>
internal sealed class MqttConnection
{
    private static readonly byte[] s_online = "online"u8.ToArray();
    private static readonly byte[] s_offline = "offline"u8.ToArray();

    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly string? _instanceStateTopic;
    private readonly Task _predecessorStopped;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly List<MqttEventSink> _sinks = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<MqttSession> _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MqttSession? _session;
    private Task? _loop;
    private volatile string? _tlsProblem;
    private volatile bool _tlsVerified;
    private volatile bool _stopping;
    private int _references;

    /// <param name="options">The first sink's options: broker, client id, TLS, timeouts and backoff for the connection.</param>
    /// <param name="clientId">The expanded client id.</param>
    /// <param name="predecessorStopped">Completes when an earlier connection under the same client id has said goodbye.</param>
    /// <exception cref="OptionsException">A TLS file cannot be read.</exception>
    public MqttConnection(MqttOptions options, string clientId, ILogger logger, Task predecessorStopped, string path)
    {
        _options = options;
        _logger = logger;
        _predecessorStopped = predecessorStopped;
        ClientId = clientId;
        Broker = $"{(options.Tls is null ? "mqtt" : "mqtts")}://{options.Host}:{options.Port}";
        _instanceStateTopic = string.IsNullOrEmpty(options.InstanceStateTopic) ? null : MqttOptions.ExpandTopic(options.InstanceStateTopic, options.InstanceId, "");
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(options.Host, options.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(options.Protocol == MqttProtocol.V5 ? MQTTnet.Formatter.MqttProtocolVersion.V500 : MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithCleanSession() // unacknowledged events are resent by the sinks, not by a broker session
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(options.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds));
        if (options.Username is not null) builder.WithCredentials(options.Username, options.Password);
        if (_instanceStateTopic is not null)
        {
            builder.WithWillTopic(_instanceStateTopic).WithWillPayload(s_offline).WithWillRetain()
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        }
        if (options.Tls is { } tls) builder.WithTlsOptions(Tls(tls, $"{path}.tls"));
        _clientOptions = builder.Build();
        _client = new MqttClientFactory().CreateMqttClient();
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected) Volatile.Read(ref _lost).TrySetResult();
            return Task.CompletedTask;
        };
    }

    /// <summary>The broker as logs name it: <c>mqtt://host:port</c> or <c>mqtts://host:port</c>.</summary>
    public string Broker { get; }
    public string ClientId { get; }
    /// <summary>Completes when the connection has said goodbye (or was abandoned).</summary>
    public Task Stopped => _stopped.Task;
    public bool IsConnected => Volatile.Read(ref _session) is not null;
    /// <summary>The live session, or null while disconnected.</summary>
    public MqttSession? CurrentSession => Volatile.Read(ref _session);
    internal MqttOptions Options => _options;

    /// <summary>Starts connecting (in the background).</summary>
    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Joins a sink; it is told at once when the connection is already up. Under the registry's lock.</summary>
    public void Attach(MqttEventSink sink)
    {
        lock (_gate)
        {
            _references++;
            _sinks.Add(sink);
            if (_session is not null) sink.OnConnected(reconnect: false);
        }
    }

    /// <summary>A sink leaves; returns true when it was the last (the caller then stops the connection). Under the registry's lock.</summary>
    public bool Detach(MqttEventSink sink)
    {
        lock (_gate)
        {
            _sinks.Remove(sink);
            return --_references == 0;
        }
    }

    /// <summary>The live session, as soon as there is one.</summary>
    public Task<MqttSession> WaitSessionAsync(CancellationToken ct)
    {
        lock (_gate) return _up.Task.WaitAsync(ct);
    }

    /// <summary>Publishes the retained instance state <c>offline</c> (a clean goodbye: the broker then drops the will) and disconnects. Idempotent.</summary>
    public async Task StopAsync()
    {
        bool first;
        lock (_gate)
        {
            first = !_stopping;
            _stopping = true;
        }
        if (!first)
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }
        try
        {
            var session = Volatile.Read(ref _session);
            if (session is not null && !session.IsLost)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Min(5, _options.ConnectTimeoutSeconds)));
                try
                {
                    if (_instanceStateTopic is not null) await PublishRetainedAsync(session, _instanceStateTopic, s_offline, timeout.Token).ConfigureAwait(false);
                    await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(),
                        timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
                {
                    _logger.LogDebug("mqtt {Broker} (client {Client}): no clean goodbye: {Error}", Broker, ClientId, ex.Message);
                }
            }
            _stop.Cancel();
            if (_loop is not null) await _loop.ConfigureAwait(false);
            _client.Dispose();
            _logger.LogDebug("mqtt {Broker} (client {Client}): closed", Broker, ClientId);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Publishes a retained QoS 1 state message (<c>online</c>/<c>offline</c>) within a slot of the session; completes on the broker's acknowledgement.</summary>
    public static async Task PublishRetainedAsync(MqttSession session, string topic, byte[] payload, CancellationToken ct)
    {
        await session.AcquireAsync(ct).ConfigureAwait(false);
        try
        {
            await session.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag().Build(), ct).ConfigureAwait(false);
        }
        finally
        {
            session.Release();
        }
    }

    /// <summary>
    /// Test hook: closes the socket without a DISCONNECT, as a crashed process would (the broker then publishes the last
    /// will), and never reconnects.
    /// </summary>
    internal async Task DangerousCrashAsync()
    {
        lock (_gate) _stopping = true;
        _stop.Cancel();
        _client.Dispose();
        Volatile.Read(ref _lost).TrySetResult();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stopped.TrySetResult();
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        var delay = TimeSpan.FromSeconds(_options.ReconnectDelaySeconds);
        bool wasConnected = false;
        string? lastKind = null;
        long downSince = 0;
        try
        {
            await _predecessorStopped.WaitAsync(ct).ConfigureAwait(false);
            while (!ct.IsCancellationRequested)
            {
                Volatile.Write(ref _lost, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                var (result, error, kind, permanent) = await ConnectAsync(ct).ConfigureAwait(false);
                if (ct.IsCancellationRequested) break;
                if (error is not null)
                {
                    NotifyFailed();
                    if (kind != lastKind)
                    {
                        if (permanent)
                            _logger.LogError("mqtt {Broker} (client {Client}): cannot connect: {Error}; retrying with backoff up to {Max} s", Broker, ClientId, error, _options.MaxReconnectDelaySeconds);
                        else
                            _logger.LogWarning("mqtt {Broker} (client {Client}): cannot connect: {Error}; retrying with backoff up to {Max} s", Broker, ClientId, error, _options.MaxReconnectDelaySeconds);
                    }
                    else
                    {
                        _logger.LogDebug("mqtt {Broker} (client {Client}): connect failed again: {Error}", Broker, ClientId, error);
                    }
                    lastKind = kind;
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    delay = TimeSpan.FromSeconds(Math.Min(_options.MaxReconnectDelaySeconds, delay.TotalSeconds * 2));
                    continue;
                }

                lastKind = null;
                delay = TimeSpan.FromSeconds(_options.ReconnectDelaySeconds);
                int receiveMaximum = result!.ReceiveMaximum is > 0 and { } rm ? rm : ushort.MaxValue;
                var session = new MqttSession(_client, _options.Protocol, receiveMaximum);
                if (_instanceStateTopic is not null)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds));
                    try
                    {
                        await PublishRetainedAsync(session, _instanceStateTopic, s_online, timeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException)
                    {
                        _logger.LogDebug("mqtt {Broker}: instance state not published: {Error}", Broker, ex.Message);
                    }
                }
                int streams;
                lock (_gate)
                {
                    _session = session;
                    _up.TrySetResult(session);
                    foreach (var s in _sinks) s.OnConnected(wasConnected);
                    streams = _sinks.Count;
                }
                if (wasConnected)
                {
                    _logger.LogInformation("mqtt {Broker} (client {Client}): reconnected after {Seconds:0.0} s; sending what {Streams} stream(s) buffered",
                        Broker, ClientId, TimeSpan.FromTicks(DateTime.UtcNow.Ticks - downSince).TotalSeconds, streams);
                }
                else
                {
                    _logger.LogInformation("mqtt {Broker} (client {Client}, MQTT {Protocol}): connected", Broker, ClientId, _options.Protocol == MqttProtocol.V5 ? "5" : "3.1.1");
                }
                wasConnected = true;

                await Volatile.Read(ref _lost).Task.WaitAsync(ct).ConfigureAwait(false);
                lock (_gate)
                {
                    _session = null;
                    _up = new TaskCompletionSource<MqttSession>(TaskCreationOptions.RunContinuationsAsynchronously);
                    session.MarkLost();
                    if (_stopping) break;
                    streams = _sinks.Count;
                }
                downSince = DateTime.UtcNow.Ticks;
                _logger.LogWarning("mqtt {Broker} (client {Client}): connection lost; {Streams} stream(s) buffer their events while it reconnects",
                    Broker, ClientId, streams);
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "mqtt {Broker} (client {Client}): connection loop failed; events are no longer sent", Broker, ClientId);
        }
        finally
        {
            lock (_gate)
            {
                // Sinks must never be handed a dead session: from here on they wait (until they stop).
                if (_up.Task.IsCompleted) _up = new TaskCompletionSource<MqttSession>(TaskCreationOptions.RunContinuationsAsynchronously);
                _session?.MarkLost();
                _session = null;
            }
        }
    }

    /// <summary>One attempt: the CONNACK result, or why it failed and whether retrying is unlikely to help (TLS trust, refusal).</summary>
    /// <remarks><c>Kind</c> names the failure without its details: a streak of one kind is logged once.</remarks>
    private async Task<(MqttClientConnectResult? Result, string? Error, string Kind, bool Permanent)> ConnectAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds));
        _tlsProblem = null;
        _tlsVerified = false;
        try
        {
            var result = await _client.ConnectAsync(_clientOptions, timeout.Token).ConfigureAwait(false);
            if (result.ResultCode == MqttClientConnectResultCode.Success) return (result, null, "", false);
            string reason = string.IsNullOrEmpty(result.ReasonString) ? "" : $" ({result.ReasonString})";
            return (null, $"the broker refused the connection: {result.ResultCode}{reason}", $"refused {result.ResultCode}", true);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return (null, "stopped", "stopped", false);
        }
        catch (OperationCanceledException)
        {
            return (null, $"no answer within {_options.ConnectTimeoutSeconds} s", "timeout", false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or IOException or AuthenticationException or SocketException or MqttProtocolViolationException)
        {
            if (_tlsProblem is { } problem) return (null, problem, "server certificate", true);
            string what = Describe(ex);
            bool tcpFailed = Inner<SocketException>(ex)?.SocketErrorCode is SocketError.ConnectionRefused or SocketError.TimedOut or SocketError.HostUnreachable
                or SocketError.NetworkUnreachable or SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData or SocketError.AddressNotAvailable;
            bool transportUp = Inner<MqttConnectingFailedException>(ex) is not null; // failed between CONNECT and CONNACK
            var tls = _options.Tls;
            if (tls is not null && (transportUp || _tlsVerified))
            {
                // The broker's certificate was fine; a broker checking client certificates hangs up here.
                return (null, $"the broker closed the connection after the TLS handshake, before answering CONNECT ({what}); " + (tls.CertFile is null
                    ? "a broker that requires a client certificate does that: set tls.cert_file and tls.key_file"
                    : $"it may not accept the client certificate {tls.CertFile}"), "closed after TLS", true);
            }
            if (transportUp) return (null, $"the broker closed the connection before answering CONNECT ({what}); if port {_options.Port} is a TLS listener, set tls", "closed before CONNACK", false);
            if (tls is not null && !tcpFailed) return (null, $"TLS handshake failed: {what} (is port {_options.Port} a TLS listener?)", "TLS handshake", true);
            return (null, what, tcpFailed ? "network" : what, false);
        }
    }

    private static T? Inner<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
        }
        return null;
    }

    /// <summary>The messages of an exception and its inner ones, without repeats or MQTTnet's wrapper text.</summary>
    private static string Describe(Exception ex)
    {
        const string wrapper = "Error while authenticating.";
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            string m = (e.Message.StartsWith(wrapper, StringComparison.Ordinal) ? e.Message[wrapper.Length..] : e.Message).Trim().TrimEnd('.');
            if (m.Length > 0 && !messages.Any(x => x.Contains(m, StringComparison.Ordinal))) messages.Add(m);
        }
        return messages.Count > 0 ? string.Join(": ", messages) : ex.GetType().Name;
    }

    private void NotifyFailed()
    {
        lock (_gate)
        {
            foreach (var s in _sinks) s.OnConnectFailed();
        }
    }

    private MqttClientTlsOptions Tls(MqttTlsOptions tls, string path)
    {
        var b = new MqttClientTlsOptionsBuilder().UseTls().WithTargetHost(tls.ServerName ?? _options.Host)
            .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13);
        if (tls.CaFile is not null)
        {
            var authorities = new X509Certificate2Collection();
            try
            {
                authorities.ImportFromPemFile(tls.CaFile);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new OptionsException($"{path}.ca_file", $"cannot read {tls.CaFile}: {ex.Message}");
            }
            if (authorities.Count == 0) throw new OptionsException($"{path}.ca_file", $"{tls.CaFile} holds no PEM certificate");
            b.WithTrustChain(authorities);
        }
        if (tls.CertFile is not null)
        {
            try
            {
                var cert = X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile);
                b.WithClientCertificates([cert]);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new OptionsException($"{path}.cert_file", $"cannot load {tls.CertFile} with key {tls.KeyFile}: {ex.Message}");
            }
        }
        string trustedBy = tls.CaFile is null ? "the system's certificate authorities" : $"the certificate authorities in {tls.CaFile}";
        string expectedName = tls.ServerName ?? _options.Host;
        b.WithCertificateValidationHandler(e =>
        {
            if (e.SslPolicyErrors == SslPolicyErrors.None)
            {
                _tlsVerified = true;
                return true;
            }
            var why = new List<string>();
            if (e.SslPolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) why.Add("the broker sent no certificate");
            if (e.SslPolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) why.Add($"it is not issued to '{expectedName}' (set tls.server_name to the name it carries)");
            if (e.SslPolicyErrors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            {
                // Without a CRL the chain also reports unknown revocation: noise beside the real reason, unless it is the only one.
                var all = e.Chain?.ChainStatus ?? [];
                var real = all.Where(c => c.Status is not (X509ChainStatusFlags.RevocationStatusUnknown or X509ChainStatusFlags.OfflineRevocation)).ToList();
                var status = (real.Count > 0 ? real : all.ToList()).Select(c => $"{c.Status} ({c.StatusInformation.Trim().TrimEnd('.')})");
                why.Add($"it is not trusted by {trustedBy}: {string.Join(", ", status)}");
            }
            string subject = e.Certificate?.Subject is { Length: > 0 } s ? $" '{s}'" : "";
            _tlsProblem = $"TLS: the broker's certificate{subject} is rejected: {string.Join("; ", why)}";
            return false;
        });
        return b.Build();
    }
}
