using Microsoft.Extensions.Logging;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>User names and passwords, TLS and mutual TLS, with a certificate authority made by openssl for the test.</summary>
public partial class MqttEventSinkTests
{
    [Fact]
    public async Task TheBrokerChecksUserNameAndPassword()
    {
        using var broker = new MosquittoBroker(users: new Dictionary<string, string> { ["sv"] = "s3cret-pass" });
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#", broker.ClientArgs);
        observer.WaitSubscribed(broker.Port);
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port) with { Username = "sv", Password = "s3cret-pass" }, "cam1");
        await WriteEventsAsync(sink, pool, 0, 3);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 3, s_wait), broker.Log);
        Assert.Equal([0L, 1, 2], Frames(observer.Payloads(sink.EventsTopic)));

        // A wrong password is refused by the broker: one error naming the reason, every attempt counted.
        var log = new ListLogger();
        var wrong = new MqttEventSink(Options(broker.Port) with { InstanceId = "node-b", Username = "sv", Password = "guess" }, "cam1", log);
        await WriteEventsAsync(wrong, pool, 0, 2);
        Assert.True(Poll.Until(() => wrong.FailedAttempts >= 2, s_wait), log.ToString());
        var error = Assert.Single(log.At(LogLevel.Error));
        Assert.Contains("the broker refused the connection: NotAuthorized", error, StringComparison.Ordinal);
        Assert.Contains("mqtt://127.0.0.1:", error, StringComparison.Ordinal);
        Assert.False(wrong.IsConnected);
        Assert.Equal(0, wrong.Sent);
        await wrong.DisposeAsync();
        Assert.Equal(2, wrong.DroppedAtShutdown);

        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(3, sink.Sent);
    }

    [Fact]
    public async Task MutualTlsDeliversWithTheClientCertificateAndIsRefusedWithoutOne()
    {
        var pki = TestPki.Create("StreamVision Test CA");
        using var broker = new MosquittoBroker(pki, requireClientCertificate: true);
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        var pool = new FramePool();
        var tls = new MqttTlsOptions { CaFile = pki.CaFile, CertFile = pki.ClientCert, KeyFile = pki.ClientKey };
        var sink = new MqttEventSink(Options(broker.TlsPort) with { Tls = tls, Protocol = MqttProtocol.V5 }, "cam1");
        await WriteEventsAsync(sink, pool, 0, 5);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 5, s_wait), broker.Log);
        Assert.Equal([0L, 1, 2, 3, 4], Frames(observer.Payloads(sink.EventsTopic)));
        Assert.Contains($"on port {broker.TlsPort}.", broker.Log, StringComparison.Ordinal);
        Assert.Equal(1, broker.ConnectionsOf(sink.ClientId));

        // The host name is checked too: the certificate names localhost and 127.0.0.1, not this.
        var log = new ListLogger();
        var misnamed = new MqttEventSink(Options(broker.TlsPort) with { InstanceId = "node-b", Tls = tls with { ServerName = "broker.example" } }, "cam1", log);
        Assert.True(Poll.Until(() => misnamed.FailedAttempts >= 1, s_wait), log.ToString());
        Assert.Contains(log.At(LogLevel.Error), m => m.Contains("is not issued to 'broker.example'", StringComparison.Ordinal));
        await misnamed.DisposeAsync();

        // Without a client certificate the broker ends the handshake: logged and counted, never connected.
        log = new ListLogger();
        var anonymous = new MqttEventSink(Options(broker.TlsPort) with { InstanceId = "node-c", Tls = new MqttTlsOptions { CaFile = pki.CaFile } }, "cam1", log);
        Assert.True(Poll.Until(() => anonymous.FailedAttempts >= 1, s_wait), log.ToString());
        var refused = Assert.Single(log.At(LogLevel.Error));
        Assert.Contains("the broker closed the connection after the TLS handshake, before answering CONNECT", refused, StringComparison.Ordinal);
        Assert.Contains("set tls.cert_file and tls.key_file", refused, StringComparison.Ordinal);
        Assert.False(anonymous.IsConnected);
        Assert.Equal(0, broker.ConnectionsOf(anonymous.ClientId));
        await anonymous.DisposeAsync();

        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(5, sink.Sent);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AWrongCertificateAuthorityFailsWithAClearErrorThatIsLoggedAndCounted()
    {
        var pki = TestPki.Create("StreamVision Test CA");
        var other = TestPki.Create("Some Other CA");
        using var broker = new MosquittoBroker(pki);
        broker.Start();
        string stream = "tls-" + Guid.NewGuid().ToString("N");
        var metrics = new PipelineMetrics();
        var log = new ListLogger();
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.TlsPort) with { Tls = new MqttTlsOptions { CaFile = other.CaFile } }, stream, log, null, metrics);
        await WriteEventsAsync(sink, pool, 0, 3);
        Assert.True(Poll.Until(() => sink.FailedAttempts >= 2, s_wait), log.ToString());
        // One error for the whole streak of identical failures, saying what was wrong and with which file.
        var error = Assert.Single(log.At(LogLevel.Error));
        Assert.Contains("TLS: the broker's certificate 'CN=localhost' is rejected", error, StringComparison.Ordinal);
        Assert.Contains($"it is not trusted by the certificate authorities in {other.CaFile}", error, StringComparison.Ordinal);
        Assert.False(sink.IsConnected);
        Assert.Equal(0, broker.ConnectionsOf(sink.ClientId));
        await sink.DisposeAsync();
        Assert.Equal(sink.FailedAttempts, MetricValues.Sum(metrics.SinkReconnects, stream, v => MetricValues.Label(metrics.SinkReconnects, v, "outcome") == "failed"));
        Assert.Equal(0, sink.Sent);
        Assert.Equal(3, sink.DroppedAtShutdown);

        // The right authority, same broker: connected.
        var good = new MqttEventSink(Options(broker.TlsPort) with { Tls = new MqttTlsOptions { CaFile = pki.CaFile } }, stream);
        Assert.True(Poll.Until(() => good.IsConnected, s_wait), broker.Log);
        await good.DisposeAsync();
    }
}
