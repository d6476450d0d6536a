using StreamVision.Tracking.Assignment;

namespace StreamVision.Tracking.Tests.Assignment;

public class LinearAssignmentTests
{
    [Fact]
    public void SolveComplete_KnownSquare()
    {
        double[] c =
        [
            4, 1, 3,
            2, 0, 5,
            3, 2, 2,
        ];
        var r = new int[3];
        Assert.Equal(5, LinearAssignment.SolveComplete(c, 3, 3, r));
        Assert.Equal([1, 0, 2], r);
    }

    [Fact]
    public void SolveComplete_MatchesBruteForce_OnRandomRectangles()
    {
        var rng = new Random(12345);
        for (int trial = 0; trial < 2000; trial++)
        {
            int rows = rng.Next(1, 7), cols = rng.Next(1, 7);
            var c = RandomCosts(rng, rows, cols, forbidden: 0);
            var r = new int[rows];
            double total = LinearAssignment.SolveComplete(c, rows, cols, r);
            var (best, _) = BruteForce(c, rows, cols, p => p.Sum(x => x.cost), requireComplete: true);
            Assert.Equal(best, total, 9);
            AssertInjective(r, cols);
            Assert.Equal(Math.Min(rows, cols), r.Count(x => x >= 0));
        }
    }

    [Fact]
    public void MaxGain_MatchesBruteForce_WithThresholdAndForbiddenPairs()
    {
        var rng = new Random(99);
        for (int trial = 0; trial < 2000; trial++)
        {
            int rows = rng.Next(0, 7), cols = rng.Next(0, 7);
            var c = RandomCosts(rng, rows, cols, forbidden: 0.2);
            double limit = 0.2 + rng.NextDouble() * 0.8;
            var r = new int[rows];
            var q = new int[cols];
            int n = LinearAssignment.Solve(c, rows, cols, limit, r, q, AssignmentObjective.MaxGain);

            var (bestGain, _) = BruteForce(c, rows, cols, p => -p.Sum(x => limit - x.cost), requireComplete: false, maxCost: limit);
            double gain = 0;
            for (int i = 0; i < rows; i++)
                if (r[i] >= 0)
                {
                    double v = c[i * cols + r[i]];
                    Assert.True(v <= limit, "matched a pair above the limit");
                    gain += limit - v;
                }
            Assert.Equal(-bestGain, gain, 9);
            AssertConsistent(r, q, n);
        }
    }

    [Fact]
    public void MaxCardinality_MatchesBruteForce_MostPairsThenLeastCost()
    {
        var rng = new Random(2024);
        for (int trial = 0; trial < 2000; trial++)
        {
            int rows = rng.Next(0, 7), cols = rng.Next(0, 7);
            var c = RandomCosts(rng, rows, cols, forbidden: 0.4);
            var r = new int[rows];
            var q = new int[cols];
            int n = LinearAssignment.Solve(c, rows, cols, 0.7, r, q, AssignmentObjective.MaxCardinality);

            // Lexicographic objective: most pairs first (weight 1000 per pair), then least cost.
            var (best, bestPairs) = BruteForce(c, rows, cols, p => -1000.0 * p.Count + p.Sum(x => x.cost), requireComplete: false, maxCost: 0.7);
            double cost = 0;
            for (int i = 0; i < rows; i++)
                if (r[i] >= 0) cost += c[i * cols + r[i]];
            Assert.Equal(bestPairs, n);
            Assert.Equal(best, -1000.0 * n + cost, 9);
            AssertConsistent(r, q, n);
        }
    }

    [Fact]
    public void MaxCardinality_PrefersMorePairsOverCheaperOnes()
    {
        // Greedy (and min-cost with a threshold) takes (0,0) for 0.1 and leaves row 1 alone; two pairs are possible.
        double[] c =
        [
            0.1, 0.4,
            0.3, double.NaN,
        ];
        var r = new int[2];
        var q = new int[2];
        Assert.Equal(2, LinearAssignment.Solve(c, 2, 2, 0.5, r, q, AssignmentObjective.MaxCardinality));
        Assert.Equal([1, 0], r);
        Assert.Equal(1, LinearAssignment.Solve(c, 2, 2, 0.5, r, q, AssignmentObjective.MaxGain));
        Assert.Equal([0, -1], r);
    }

    [Fact]
    public void EmptyAndAllForbidden_MatchNothing()
    {
        var r = new int[3];
        var q = new int[2];
        Assert.Equal(0, LinearAssignment.Solve([], 0, 2, 1, r, q));
        Assert.Equal(0, LinearAssignment.Solve(new double[6].Select(_ => double.PositiveInfinity).ToArray(), 3, 2, 1, r, q));
        Assert.All(r, x => Assert.Equal(-1, x));
        Assert.All(q, x => Assert.Equal(-1, x));
    }

    [Fact]
    public void BadArguments_Throw()
    {
        var r = new int[2];
        var q = new int[2];
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(new double[3], 2, 2, 1, r, q));
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(new double[4], 2, 2, 1, new int[1], q));
        Assert.Throws<ArgumentException>(() => LinearAssignment.SolveComplete([1, double.NaN], 1, 2, r));
    }

    [Fact]
    public void LargeMatrix_IsSolvedQuickly()
    {
        var rng = new Random(5);
        int n = 300;
        var c = RandomCosts(rng, n, n, forbidden: 0);
        var r = new int[n];
        var sw = System.Diagnostics.Stopwatch.StartNew();
        LinearAssignment.SolveComplete(c, n, n, r);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"300x300 took {sw.Elapsed}");
        AssertInjective(r, n);
    }

    private static double[] RandomCosts(Random rng, int rows, int cols, double forbidden)
    {
        var c = new double[rows * cols];
        for (int i = 0; i < c.Length; i++)
        {
            double roll = rng.NextDouble();
            c[i] = roll < forbidden / 2 ? double.NaN : roll < forbidden ? double.PositiveInfinity : Math.Round(rng.NextDouble(), 2);
        }
        return c;
    }

    /// <summary>Best (lowest) score over every partial injective assignment; returns it and its number of pairs.</summary>
    private static (double Best, int Pairs) BruteForce(double[] c, int rows, int cols, Func<List<(int r, int c, double cost)>, double> score,
        bool requireComplete, double maxCost = double.PositiveInfinity)
    {
        double best = double.PositiveInfinity;
        int bestPairs = 0;
        var used = new bool[cols];
        var pairs = new List<(int, int, double)>();
        Recurse(0);
        return (best, bestPairs);

        void Recurse(int row)
        {
            if (row == rows)
            {
                if (requireComplete && pairs.Count != Math.Min(rows, cols)) return;
                double s = score(pairs);
                if (s < best - 1e-12)
                {
                    best = s;
                    bestPairs = pairs.Count;
                }
                return;
            }
            Recurse(row + 1); // row unmatched
            for (int j = 0; j < cols; j++)
            {
                double v = c[row * cols + j];
                if (used[j] || !double.IsFinite(v) || v > maxCost) continue;
                used[j] = true;
                pairs.Add((row, j, v));
                Recurse(row + 1);
                pairs.RemoveAt(pairs.Count - 1);
                used[j] = false;
            }
        }
    }

    private static void AssertInjective(int[] rowToCol, int cols)
    {
        var seen = new HashSet<int>();
        foreach (int j in rowToCol)
            if (j >= 0)
            {
                Assert.InRange(j, 0, cols - 1);
                Assert.True(seen.Add(j), $"column {j} used twice");
            }
    }

    private static void AssertConsistent(int[] rowToCol, int[] colToRow, int matched)
    {
        Assert.Equal(matched, rowToCol.Count(x => x >= 0));
        Assert.Equal(matched, colToRow.Count(x => x >= 0));
        for (int i = 0; i < rowToCol.Length; i++)
            if (rowToCol[i] >= 0) Assert.Equal(i, colToRow[rowToCol[i]]);
    }
}
