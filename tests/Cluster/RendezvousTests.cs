using StreamVision.Cluster;

namespace StreamVision.Cluster.Tests;

public class RendezvousTests
{
    private static readonly string[] Three = ["alpha", "bravo", "charlie"];

    [Fact]
    public void TheRankingIsTheSameEverywhereAndIgnoresTheMembersOrder()
    {
        Assert.Equal(Rendezvous.Rank("cam-7", Three), Rendezvous.Rank("cam-7", Three.Reverse()));
        // A fixed value: the hash is stable across processes and runtime versions (string.GetHashCode is not).
        Assert.Equal(Rendezvous.Weight("cam-7", "alpha"), Rendezvous.Weight("cam-7", "alpha"));
        Assert.NotEqual(Rendezvous.Weight("cam-7", "alpha"), Rendezvous.Weight("cam-7", "bravo"));
        Assert.NotEqual(Rendezvous.Weight("ab", "c"), Rendezvous.Weight("a", "bc"));
        Assert.Null(Rendezvous.Owner("cam-7", []));
    }

    [Fact]
    public void LoadSpreadsEvenly()
    {
        var counts = Enumerable.Range(0, 3000).GroupBy(i => Rendezvous.Owner($"cam{i}", Three)).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, n => Assert.InRange(n, 900, 1100));
    }

    [Fact]
    public void AMemberJoiningTakesOnlyTheStreamsItWinsAndLeavingMovesOnlyItsOwn()
    {
        var streams = Enumerable.Range(0, 1000).Select(i => $"door-{i}").ToList();
        var before = streams.ToDictionary(s => s, s => Rendezvous.Owner(s, Three));
        string[] four = [.. Three, "delta"];
        var after = streams.ToDictionary(s => s, s => Rendezvous.Owner(s, four));
        var moved = streams.Where(s => before[s] != after[s]).ToList();
        Assert.All(moved, s => Assert.Equal("delta", after[s]));
        Assert.InRange(moved.Count, 180, 320); // about a quarter

        var left = streams.ToDictionary(s => s, s => Rendezvous.Owner(s, ["alpha", "charlie"]));
        Assert.All(streams.Where(s => before[s] != left[s]), s => Assert.Equal("bravo", before[s]));
    }
}
