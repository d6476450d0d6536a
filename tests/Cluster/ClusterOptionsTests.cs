using StreamVision.Cluster;
using StreamVision.Core;

namespace StreamVision.Cluster.Tests;

public class ClusterOptionsTests
{
    private static readonly ClusterOptions Good = new() { Endpoints = ["http://127.0.0.1:2379"], InstanceId = "a" };

    [Fact]
    public void DefaultsAreValidOnceThereIsAnEndpoint()
    {
        Good.Validate();
        Assert.Equal(10, Good.LeaseSeconds);
        Assert.Equal("/streamvision/default/", Good.Prefix);
    }

    [Theory]
    [InlineData("endpoints", null, 10, null)]
    [InlineData("endpoints[0]", "127.0.0.1:2379", 10, null)]
    [InlineData("endpoints[0]", "http://127.0.0.1:2379/v3", 10, null)]
    [InlineData("lease_seconds", "http://e:2379", 1, null)]
    [InlineData("name", "http://e:2379", 10, "a/b")]
    public void BadValuesNameTheirKey(string key, string? endpoint, int lease, string? name)
    {
        var o = Good with { Endpoints = endpoint is null ? [] : [endpoint], LeaseSeconds = lease, Name = name ?? "default" };
        var ex = Assert.Throws<OptionsException>(() => o.Validate());
        Assert.Equal($"cluster.{key}", ex.Path);
    }

    [Fact]
    public void MixedSchemesAndBadInstanceIdsAreRefused()
    {
        Assert.Equal("cluster.endpoints", Assert.Throws<OptionsException>(() => (Good with { Endpoints = ["http://a:2379", "https://b:2379"] }).Validate()).Path);
        Assert.Equal("instance", Assert.Throws<OptionsException>(() => (Good with { InstanceId = "" }).Validate()).Path);
        Assert.Equal("cluster.poll_ms", Assert.Throws<OptionsException>(() => (Good with { PollInterval = TimeSpan.Zero }).Validate()).Path);
    }
}
