using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Commands;
using StreamVision.App.Config;
using StreamVision.App.Http;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Tests.Deploy;

/// <summary>
/// deploy/ cannot be built or applied here (no container engine, no Kubernetes): these checks hold it to the program
/// instead. The configurations inside pass <c>config check</c> with the environment the manifests give them; the
/// command lines parse with the real verbs and options; the ports agree; the probed and scraped paths answer on a
/// service started with the ConfigMap's configuration against a real etcd; the apt packages exist in Debian 12.
/// </summary>
public partial class DeploymentTests
{
    private static string Deploy(params string[] parts) => Path.Combine([TestEnvironment.RepoRoot, "deploy", .. parts]);

    private static readonly Lazy<string> s_dockerfile = new(() => File.ReadAllText(Deploy("Dockerfile")));

    /// <summary>Dockerfile instructions with their continuation lines joined, comments left out.</summary>
    private static List<(string Op, string Args)> Instructions()
    {
        var joined = Regex.Replace(s_dockerfile.Value, @"\\\r?\n", " ");
        return joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => (l.Split(' ', 2)[0].ToUpperInvariant(), l.Split(' ', 2).ElementAtOrDefault(1)?.Trim() ?? "")).ToList();
    }

    private static List<YamlMappingNode> Manifests(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Deploy("kubernetes", file))));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params object[] path)
    {
        foreach (var step in path)
        {
            node = step switch
            {
                string key => ((YamlMappingNode)node).Children[new YamlScalarNode(key)],
                int i => ((YamlSequenceNode)node).Children[i],
                _ => throw new ArgumentException("path steps are keys or indices"),
            };
        }
        return node;
    }

    private static string Text(YamlNode node, params object[] path) => ((YamlScalarNode)At(node, path)).Value!;

    private static YamlMappingNode StatefulSet => Manifests("statefulset.yaml").Single();
    private static YamlNode Container => At(StatefulSet, "spec", "template", "spec", "containers", 0);

    /// <summary>The ConfigMap's config.yaml.</summary>
    private static string ConfigMapConfig => Text(Manifests("configmap.yaml").Single(), "data", "config.yaml");

    /// <summary>The container's SV__ variables as a pod would have them (<c>$(VAR)</c> references resolved with sample values).</summary>
    private static Dictionary<string, string> PodEnvironment(YamlNode container)
    {
        var known = new Dictionary<string, string> { ["POD_NAME"] = "streamvision-1", ["POD_IP"] = "10.1.2.3" };
        var env = new Dictionary<string, string>();
        foreach (YamlMappingNode e in (YamlSequenceNode)At(container, "env"))
        {
            string name = Text(e, "name");
            if (!e.Children.ContainsKey(new YamlScalarNode("value"))) continue;
            string value = Regex.Replace(Text(e, "value"), @"\$\((\w+)\)", m => known.GetValueOrDefault(m.Groups[1].Value, m.Value));
            Assert.DoesNotContain("$(", value, StringComparison.Ordinal);
            known[name] = value;
            if (name.StartsWith(ConfigLoader.EnvPrefix, StringComparison.Ordinal)) env[name] = value;
        }
        return env;
    }

    private static void AssertChecks(string yaml, Dictionary<string, string> env)
    {
        string file = Path.Combine(TestEnvironment.NewTempDir(), "config.yaml");
        File.WriteAllText(file, yaml);
        var cfg = ConfigLoader.LoadText(yaml, file, env); // throws with every error
        // And the config check verb agrees (it reads the real environment, which holds no SV__ variables here).
        var output = new StringWriter();
        var errors = new StringWriter();
        if (env.Count == 0) Assert.Equal(0, ConfigCommand.Check(file, output, errors));
        Assert.NotNull(cfg);
    }

    [Fact]
    public void TheConfigurationsInsidePassConfigCheck()
    {
        AssertChecks(File.ReadAllText(Deploy("config.yaml")), []);
        AssertChecks(ConfigMapConfig, []);
        var env = PodEnvironment(Container);
        Assert.Equal(["SV__CLUSTER__ADVERTISE_URL", "SV__CLUSTER__ENDPOINTS", "SV__INSTANCE"], env.Keys.Order());
        var cfg = ConfigLoader.LoadText(ConfigMapConfig, "configmap", env);
        Assert.Equal("streamvision-1", cfg.Instance);
        Assert.Equal("http://10.1.2.3:8080", cfg.Cluster!.AdvertiseUrl);
        Assert.Equal(3, cfg.Cluster.Endpoints.Count);
        Assert.NotNull(cfg.Sinks.Kafka);
        Assert.NotNull(cfg.Sinks.Mqtt);
        // The GPU patch's variables fit the configuration too.
        var gpu = Manifests("gpu-patch.yaml").Single();
        var gpuEnv = PodEnvironment(At(gpu, "spec", "template", "spec", "containers", 0));
        Assert.Equal(["cuda", "cpu"], ConfigLoader.LoadText(ConfigMapConfig, "configmap", gpuEnv).Detector.Session.Providers);
        Assert.Equal("streamvision", Text(gpu, "spec", "template", "spec", "containers", 0, "name"));
        Assert.Equal("1", Text(gpu, "spec", "template", "spec", "containers", 0, "resources", "limits", "nvidia.com/gpu"));
        // Kubernetes waits longer than the service takes to drain and leave the cluster.
        Assert.True(int.Parse(Text(StatefulSet, "spec", "template", "spec", "terminationGracePeriodSeconds")) > cfg.ShutdownSeconds);
    }

    [Fact]
    public void EveryCommandLineParsesWithTheRealVerbsAndOptions()
    {
        var docker = Instructions();
        string entry = docker.Single(i => i.Op == "ENTRYPOINT").Args, cmd = docker.Single(i => i.Op == "CMD").Args;
        var entryArgs = System.Text.Json.JsonSerializer.Deserialize<string[]>(entry)!;
        var cmdArgs = System.Text.Json.JsonSerializer.Deserialize<string[]>(cmd)!;
        Assert.Equal(["dotnet", "/app/streamvision.dll"], entryArgs);
        Assert.Equal("streamvision.dll", Path.GetFileName(typeof(Program).Assembly.Location));
        var k8sArgs = ((YamlSequenceNode)At(Container, "args")).Select(n => ((YamlScalarNode)n).Value!).ToArray();
        foreach (var args in new[] { cmdArgs, k8sArgs })
        {
            var parsed = Program.BuildRoot().Parse(args);
            Assert.Empty(parsed.Errors);
            Assert.Equal("run", parsed.CommandResult.Command.Name);
            Assert.Equal("/etc/streamvision/config.yaml", args[^1]);
        }
        // The image puts a configuration where its CMD reads it; Kubernetes mounts the ConfigMap's key there.
        Assert.Contains(docker, i => i.Op == "COPY" && i.Args == "deploy/config.yaml /etc/streamvision/config.yaml");
        var mount = ((YamlSequenceNode)At(Container, "volumeMounts")).Cast<YamlMappingNode>().Single(m => Text(m, "name") == "config");
        Assert.Equal("/etc/streamvision", Text(mount, "mountPath"));
        var volume = ((YamlSequenceNode)At(StatefulSet, "spec", "template", "spec", "volumes")).Cast<YamlMappingNode>().Single(v => Text(v, "name") == "config");
        Assert.Equal(Text(Manifests("configmap.yaml").Single(), "metadata", "name"), Text(volume, "configMap", "name"));
    }

    [Fact]
    public void PortsUsersAndFilesAgree()
    {
        int port = new Uri(ConfigLoader.LoadText(ConfigMapConfig, "configmap", new Dictionary<string, string>()).Http.Listen).Port;
        Assert.Equal(port, new Uri(ConfigLoader.LoadText(File.ReadAllText(Deploy("config.yaml")), "image", new Dictionary<string, string>()).Http.Listen).Port);
        var docker = Instructions();
        Assert.Equal(port.ToString(), docker.Single(i => i.Op == "EXPOSE").Args);
        Assert.Contains($"http://127.0.0.1:{port}/healthz", docker.Single(i => i.Op == "HEALTHCHECK").Args);
        var containerPort = ((YamlSequenceNode)At(Container, "ports")).Cast<YamlMappingNode>().Single();
        Assert.Equal(port.ToString(), Text(containerPort, "containerPort"));
        string portName = Text(containerPort, "name");
        foreach (var probe in new[] { "livenessProbe", "readinessProbe" }) Assert.Equal(portName, Text(Container, probe, "httpGet", "port"));
        foreach (var svc in Manifests("service.yaml")) Assert.Equal(portName, Text(svc, "spec", "ports", 0, "targetPort"));
        Assert.Equal(port.ToString(), Text(StatefulSet, "spec", "template", "metadata", "annotations", "prometheus.io/port"));
        Assert.Equal(Text(StatefulSet, "spec", "serviceName"), Text(Manifests("service.yaml")[1], "metadata", "name"));

        // A non-root user, the same uid in the image and the pod.
        Assert.Matches(@"useradd --system --uid 10001 ", s_dockerfile.Value);
        Assert.Equal("streamvision", docker.Last(i => i.Op == "USER").Args);
        Assert.Equal("10001", Text(StatefulSet, "spec", "template", "spec", "securityContext", "runAsUser"));

        // What the image copies from the repository exists; the kustomization lists files that exist.
        foreach (var (_, args) in docker.Where(i => i.Op == "COPY" && !i.Args.StartsWith("--from", StringComparison.Ordinal) && i.Args != ". ."))
            Assert.True(File.Exists(Path.Combine(TestEnvironment.RepoRoot, args.Split(' ')[0])) || Directory.Exists(Path.Combine(TestEnvironment.RepoRoot, args.Split(' ')[0])), args);
        Assert.Contains("BLAZEFACE_NPM_PACKAGE=", File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "tools", "versions.env")));
        foreach (var r in (YamlSequenceNode)At(Manifests("kustomization.yaml").Single(), "resources"))
            Assert.True(File.Exists(Deploy("kubernetes", ((YamlScalarNode)r).Value!)), $"{r} is listed but missing");
    }

    [Fact]
    public void TheAptPackagesOfTheImageExistInDebian12()
    {
        var names = Instructions().Where(i => i.Op == "RUN" && i.Args.Contains("apt-get install", StringComparison.Ordinal))
            .SelectMany(i => Regex.Match(i.Args, @"--no-install-recommends (.*?)(&&|$)").Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Distinct().ToList();
        Assert.Contains("libavformat59", names);
        Assert.Contains("libgtk-3-0", names);
        var (known, _) = TestEnvironment.Run("apt-cache", "show --no-all-versions " + string.Join(' ', names));
        var found = Regex.Matches(known, @"^Package: (\S+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.All(names, n => Assert.Contains(n, found));
        Assert.Contains("FROM debian:12-slim", s_dockerfile.Value);
    }

    [Fact]
    public async Task TheProbedAndScrapedPathsAnswerOnTheConfigMapsService()
    {
        using var etcd = new EtcdCluster(1);
        etcd.Start();
        var env = PodEnvironment(Container);
        env["SV__CLUSTER__ENDPOINTS"] = etcd.ClientUrls[0];
        env["SV__HTTP__LISTEN"] = "http://127.0.0.1:0";
        env.Remove("SV__CLUSTER__ADVERTISE_URL");
        // The Secret's file, where the pod has it mounted (here: a file of ours in its place).
        const string token = "deploy-test-token-0123456789";
        string tokenFile = Path.Combine(TestEnvironment.NewTempDir(), "token");
        File.WriteAllText(tokenFile, token + "\n");
        var cfg = ConfigLoader.LoadText(ConfigMapConfig, "configmap", env);
        Assert.Equal("/etc/streamvision-token/token", cfg.Http.TokenFile);
        var mount = ((YamlSequenceNode)At(Container, "volumeMounts")).Cast<YamlMappingNode>().Single(m => Text(m, "name") == "token");
        Assert.Equal("/etc/streamvision-token", Text(mount, "mountPath"));
        cfg = cfg with { Http = cfg.Http with { TokenFile = tokenFile } };
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        // The probes, the scrape and the dashboard page are open; the API wants the token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/streams")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await Poll.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "ready (joined the cluster)");
        var paths = new[]
        {
            Text(Container, "livenessProbe", "httpGet", "path"),
            Text(Container, "readinessProbe", "httpGet", "path"),
            Text(StatefulSet, "spec", "template", "metadata", "annotations", "prometheus.io/path"),
            Regex.Match(Instructions().Single(i => i.Op == "HEALTHCHECK").Args, @"http://[^/]+(/\S+)").Groups[1].Value,
            "/",
        };
        using var open = new HttpClient { BaseAddress = host.Address };
        foreach (var path in paths) Assert.True((await open.GetAsync(path)).StatusCode == HttpStatusCode.OK, path + " without the token");
        foreach (var path in new[] { "/api/streams", "/api/cluster" }) Assert.True((await http.GetAsync(path)).StatusCode == HttpStatusCode.OK, path);
        Assert.Contains("sv_cluster_member 1", await http.GetStringAsync("/metrics"));
    }
}
