using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace StreamVision.Cluster;

/// <summary>One key of a range read: its text value, the lease it is bound to (0 = none), when it was created and last written.</summary>
public sealed record EtcdEntry(string Key, string Value, long Lease, long CreateRevision, long ModRevision = 0);

/// <summary>
/// The few etcd v3 requests the cluster needs, over one gRPC channel to every endpoint (dotnet-etcd's client for the KV
/// and lease calls; etcd's generated Lease client for single keep-alives). Every request carries a deadline, so an etcd
/// that is gone is an error after <see cref="ClusterOptions.RequestTimeout"/>, never a hang; every failure surfaces as
/// <see cref="ClusterException"/>. Thread-safe.
/// </summary>
internal sealed class EtcdStore : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly EtcdClient _client;
    private readonly Lease.LeaseClient _leases;
    private readonly TimeSpan _timeout;

    public EtcdStore(IReadOnlyList<string> endpoints, TimeSpan requestTimeout)
    {
        _timeout = requestTimeout;
        bool tls = endpoints.Count > 0 && endpoints[0].StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        // dotnet-etcd's factory: one channel, a static resolver over every endpoint, round-robin, retries on Unavailable.
        _channel = new GrpcChannelFactory().CreateChannel(string.Join(",", endpoints), 2379, "etcd",
            tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, null, null);
        _client = new EtcdClient(_channel.CreateCallInvoker());
        _leases = new Lease.LeaseClient(_channel);
    }

    private DateTime Deadline(TimeSpan? timeout = null) => DateTime.UtcNow + (timeout ?? _timeout);

    private static ByteString Bytes(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>A new lease of <paramref name="ttlSeconds"/>; returns its id and the TTL etcd granted.</summary>
    public Task<(long Id, long Ttl)> GrantAsync(int ttlSeconds, CancellationToken ct) => Call("grant a lease", ct, async () =>
    {
        var r = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(r.Error)) throw new ClusterException($"etcd refused a lease: {r.Error}");
        return (r.ID, r.TTL);
    });

    /// <summary>One keep-alive: the lease's TTL as renewed, or 0 when etcd no longer knows the lease (it expired or was revoked).</summary>
    public Task<long> KeepAliveAsync(long lease, TimeSpan timeout, CancellationToken ct) => Call("renew the lease", ct, async () =>
    {
        using var call = _leases.LeaseKeepAlive(deadline: Deadline(timeout), cancellationToken: ct);
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, ct).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(ct).ConfigureAwait(false)) throw new ClusterException("etcd closed the keep-alive without an answer");
        return call.ResponseStream.Current.TTL;
    });

    /// <summary>Revokes a lease: every key bound to it is deleted at once.</summary>
    public Task RevokeAsync(long lease, CancellationToken ct) => Call("revoke the lease", ct, async () =>
    {
        try
        {
            await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // Already expired: its keys are gone.
        }
        return 0;
    });

    /// <summary>Every key under <paramref name="prefix"/> (a linearizable read).</summary>
    public Task<IReadOnlyList<EtcdEntry>> RangeAsync(string prefix, CancellationToken ct) => Call("read the cluster", ct, async () =>
    {
        var r = await _client.GetRangeAsync(prefix, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        return (IReadOnlyList<EtcdEntry>)r.Kvs.Select(kv => new EtcdEntry(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.Lease, kv.CreateRevision, kv.ModRevision)).ToList();
    });

    /// <summary>Creates <paramref name="key"/> unless it exists (one transaction); bound to <paramref name="lease"/> when not 0. True when created.</summary>
    public Task<bool> CreateAsync(string key, string value, long lease, CancellationToken ct) => Call($"create {key}", ct, async () =>
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease } });
        var r = await _client.TransactionAsync(txn, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        return r.Succeeded;
    });

    /// <summary>Writes <paramref name="key"/>, bound to <paramref name="lease"/> when not 0.</summary>
    public Task PutAsync(string key, string value, long lease, CancellationToken ct) => Call($"write {key}", ct, async () =>
    {
        await _client.PutAsync(new PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease }, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        return 0;
    });

    /// <summary>
    /// Writes <paramref name="key"/> only while it was last written at <paramref name="modRevision"/> (one transaction): a
    /// read-modify-write that loses to nothing. Returns whether it was written and, if so, the revision of the write.
    /// </summary>
    public Task<(bool Written, long Revision)> PutIfUnchangedAsync(string key, string value, long modRevision, CancellationToken ct) => Call($"write {key}", ct, async () =>
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(key), Value = Bytes(value) } });
        var r = await _client.TransactionAsync(txn, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        return (r.Succeeded, r.Header.Revision);
    });

    /// <summary>Deletes <paramref name="key"/> only while it still holds <paramref name="value"/> under <paramref name="lease"/> (one transaction). True when deleted.</summary>
    public Task<bool> DeleteIfAsync(string key, string value, long lease, CancellationToken ct) => Call($"release {key}", ct, async () =>
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Bytes(value) });
        txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.Equal, Lease = lease });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(key) } });
        var r = await _client.TransactionAsync(txn, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        return r.Succeeded;
    });

    /// <summary>Deletes <paramref name="key"/>; true when it existed.</summary>
    public Task<bool> DeleteAsync(string key, CancellationToken ct) => Call($"delete {key}", ct, async () =>
    {
        var r = await _client.DeleteAsync(new DeleteRangeRequest { Key = Bytes(key) }, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
        return r.Deleted > 0;
    });

    private static async Task<T> Call<T>(string what, CancellationToken ct, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            string why = ex.StatusCode switch
            {
                StatusCode.DeadlineExceeded => "no answer in time",
                StatusCode.Unavailable => "unreachable",
                _ => ex.StatusCode.ToString(),
            };
            throw new ClusterException($"etcd: cannot {what}: {why}{(string.IsNullOrEmpty(ex.Status.Detail) ? "" : $" ({ex.Status.Detail})")}", ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            // A deadline that ran out inside a streaming call surfaces as a cancellation, not as an RpcException.
            throw new ClusterException($"etcd: cannot {what}: no answer in time", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new ClusterException($"etcd: cannot {what}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _channel.Dispose();
    }
}
