using StreamVision.App.Config;
using StreamVision.Cluster;

namespace StreamVision.App.Tests.Config;

/// <summary>The <c>cluster:</c> section: every option reachable from YAML and the environment; mistakes name their key paths.</summary>
public partial class ConfigLoaderTests
{
    private static readonly Dictionary<string, string> NoEnv = new();

    [Fact]
    public void EveryClusterOptionIsReadFromYaml()
    {
        string yaml = """
            instance: edge-3
            cluster:
              endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]
              name: site-a
              lease_seconds: 7
              advertise_url: http://10.0.1.3:8080
              poll_ms: 250
              request_timeout_seconds: 1.5
            """;
        var c = ConfigLoader.LoadText(yaml, "cluster.yaml", NoEnv).Cluster!;
        Assert.Equal(["http://10.0.0.1:2379", "http://10.0.0.2:2379"], c.Endpoints);
        Assert.Equal("site-a", c.Name);
        Assert.Equal("edge-3", c.InstanceId);
        Assert.Equal(7, c.LeaseSeconds);
        Assert.Equal("http://10.0.1.3:8080", c.AdvertiseUrl);
        Assert.Equal(TimeSpan.FromMilliseconds(250), c.PollInterval);
        Assert.Equal(TimeSpan.FromSeconds(1.5), c.RequestTimeout);
        var defaults = new ClusterOptions();
        foreach (var p in typeof(ClusterOptions).GetProperties().Where(p => p.CanWrite))
            Assert.False(Equals(p.GetValue(defaults), p.GetValue(c)), $"{p.Name} keeps its default: not read from YAML?");
        var printed = new StringWriter();
        ConfigPrinter.Print(ConfigLoader.LoadText(yaml, "cluster.yaml", NoEnv), printed);
        Assert.Contains("cluster:\n  endpoints: [http://10.0.0.1:2379, http://10.0.0.2:2379]\n  name: site-a\n  lease_seconds: 7", printed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAClusterSectionTheInstanceStandsAlone()
    {
        Assert.Null(ConfigLoader.LoadText("instance: a\n", "a.yaml", NoEnv).Cluster);
        Assert.DoesNotContain("cluster:", Printed("instance: a\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void EndpointsComeFromTheEnvironmentAsCommaSeparatedUrls()
    {
        var env = new Dictionary<string, string> { ["SV__CLUSTER__ENDPOINTS"] = "http://e1:2379, http://e2:2379,http://e3:2379", ["SV__CLUSTER__LEASE_SECONDS"] = "5" };
        var c = ConfigLoader.LoadText("cluster:\n  name: x\n", "env.yaml", env).Cluster!;
        Assert.Equal(["http://e1:2379", "http://e2:2379", "http://e3:2379"], c.Endpoints);
        Assert.Equal(5, c.LeaseSeconds);
    }

    [Theory]
    [InlineData("cluster:\n  name: x\n", "cluster.endpoints: at least one etcd URL is required")]
    [InlineData("cluster:\n  endpoints: 127.0.0.1:2379\n", "cluster.endpoints[0]: must be an etcd client URL")]
    [InlineData("cluster:\n  endpoints: http://e:2379\n  lease_seconds: 1\n", "cluster.lease_seconds: must be")]
    [InlineData("cluster:\n  endpoints: http://e:2379\n  lease: 5\n", "cluster.lease: unknown key")]
    [InlineData("cluster:\n  endpoints: http://e:2379\n  name: a/b\n", "cluster.name: must be 1..64 letters")]
    [InlineData("cluster:\n  endpoints: http://e:2379\n  advertise_url: 10.0.0.1:8080\n", "cluster.advertise_url: must be an http(s) URL")]
    [InlineData("cluster: [http://e:2379]\n", "cluster: must be a mapping")]
    public void ClusterMistakesNameTheirKey(string yaml, string error)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "bad.yaml", NoEnv));
        Assert.Contains(ex.Errors, e => e.ToString().StartsWith(error, StringComparison.Ordinal));
    }

    private static string Printed(string yaml)
    {
        var w = new StringWriter();
        ConfigPrinter.Print(ConfigLoader.LoadText(yaml, "p.yaml", NoEnv), w);
        return w.ToString();
    }
}
