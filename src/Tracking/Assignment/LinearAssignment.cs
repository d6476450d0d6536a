using System.Buffers;

namespace StreamVision.Tracking.Assignment;

/// <summary>What a thresholded assignment optimises.</summary>
public enum AssignmentObjective
{
    /// <summary>
    /// Each matched pair earns <c>maxCost - cost</c>; the total is maximised, so a pair is matched only where that pays
    /// (ByteTrack/lapjv with a cost limit; a pair at exactly <c>maxCost</c> earns nothing and stays unmatched). Use for tracking.
    /// </summary>
    MaxGain,

    /// <summary>
    /// As many allowed pairs as possible, then the least total cost among those (py-motmetrics' CLEAR-MOT matching).
    /// Use for evaluation.
    /// </summary>
    MaxCardinality,
}

/// <summary>
/// Optimal linear assignment on dense rectangular cost matrices: shortest augmenting paths with dual potentials
/// (the Jonker-Volgenant / Hungarian family), O(n^2 m) for n = min(rows, cols), m = max(rows, cols).
/// Costs are row-major <c>rows x cols</c>. Working memory is pooled; the solver keeps no state between calls.
/// </summary>
public static class LinearAssignment
{
    /// <summary>
    /// Assigns rows to columns; a pair whose cost is above <paramref name="maxCost"/>, NaN or infinite is never matched.
    /// </summary>
    /// <param name="costs">Row-major costs, <c>rows * cols</c> entries.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns.</param>
    /// <param name="maxCost">Largest cost a matched pair may have.</param>
    /// <param name="rowToCol">Receives the column of each row, -1 when unmatched; at least <paramref name="rows"/> long.</param>
    /// <param name="colToRow">Receives the row of each column, -1 when unmatched; at least <paramref name="cols"/> long.</param>
    /// <param name="objective">What to optimise (see <see cref="AssignmentObjective"/>).</param>
    /// <returns>Number of matched pairs.</returns>
    public static int Solve(ReadOnlySpan<double> costs, int rows, int cols, double maxCost, Span<int> rowToCol, Span<int> colToRow,
        AssignmentObjective objective = AssignmentObjective.MaxGain)
    {
        CheckShape(costs, rows, cols, rowToCol, colToRow);
        if (double.IsNaN(maxCost)) throw new ArgumentException("maxCost is NaN", nameof(maxCost));
        rowToCol[..rows].Fill(-1);
        colToRow[..cols].Fill(-1);
        if (rows == 0 || cols == 0) return 0;

        // Both objectives reduce to a complete assignment (every row of the smaller side matched) on finite costs:
        // MaxGain: clamp every cost to maxCost, so a pair at the limit is as good as no pair; then drop those pairs.
        // MaxCardinality: replace forbidden pairs by a cost so large that using one never pays; then drop them.
        double[] work = ArrayPool<double>.Shared.Rent(rows * cols);
        try
        {
            Span<double> c = work.AsSpan(0, rows * cols);
            bool any = false;
            if (objective == AssignmentObjective.MaxGain)
            {
                if (double.IsPositiveInfinity(maxCost)) throw new ArgumentException("MaxGain needs a finite maxCost", nameof(maxCost));
                for (int i = 0; i < c.Length; i++)
                {
                    double v = costs[i];
                    bool allowed = v <= maxCost && double.IsFinite(v);
                    any |= allowed;
                    c[i] = allowed ? v : maxCost;
                }
            }
            else
            {
                double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                for (int i = 0; i < c.Length; i++)
                {
                    double v = costs[i];
                    if (v <= maxCost && double.IsFinite(v))
                    {
                        lo = Math.Min(lo, v);
                        hi = Math.Max(hi, v);
                    }
                }
                any = lo <= hi;
                // Shifted so allowed costs lie in [0, hi - lo]; a forbidden pair costs more than any r allowed ones together.
                double big = Math.Min(rows, cols) * (hi - lo) + 1 + Math.Abs(hi - lo) * 1e-9;
                for (int i = 0; i < c.Length; i++)
                {
                    double v = costs[i];
                    c[i] = v <= maxCost && double.IsFinite(v) ? v - lo : big;
                }
            }
            if (!any) return 0;

            SolveComplete(c, rows, cols, rowToCol);
            int matched = 0;
            for (int r = 0; r < rows; r++)
            {
                int col = rowToCol[r];
                if (col < 0) continue;
                double v = costs[r * cols + col];
                if (v <= maxCost && double.IsFinite(v) && !(objective == AssignmentObjective.MaxGain && v == maxCost))
                {
                    colToRow[col] = r;
                    matched++;
                }
                else
                {
                    rowToCol[r] = -1;
                }
            }
            return matched;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(work);
        }
    }

    /// <summary>
    /// Minimum-cost complete assignment on finite costs: every row is matched when <c>rows &lt;= cols</c>, else every column.
    /// </summary>
    /// <param name="costs">Row-major finite costs, <c>rows * cols</c> entries.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns.</param>
    /// <param name="rowToCol">Receives the column of each row, -1 for rows left over when <c>rows &gt; cols</c>.</param>
    /// <returns>The total cost.</returns>
    public static double SolveComplete(ReadOnlySpan<double> costs, int rows, int cols, Span<int> rowToCol)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), "sizes must not be negative");
        if (costs.Length < rows * cols) throw new ArgumentException($"costs has {costs.Length} entries, needs {rows * cols}", nameof(costs));
        if (rowToCol.Length < rows) throw new ArgumentException($"rowToCol has {rowToCol.Length} entries, needs {rows}", nameof(rowToCol));
        rowToCol[..rows].Fill(-1);
        if (rows == 0 || cols == 0) return 0;
        for (int i = 0; i < rows * cols; i++)
            if (!double.IsFinite(costs[i])) throw new ArgumentException($"cost {i} is {costs[i]}; SolveComplete needs finite costs", nameof(costs));

        bool transpose = rows > cols;
        int n = transpose ? cols : rows; // the side that is matched completely
        int m = transpose ? rows : cols;
        int[] colOf = ArrayPool<int>.Shared.Rent(n);
        try
        {
            ShortestAugmentingPath(costs, n, m, transpose, colOf.AsSpan(0, n));
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                int j = colOf[i];
                if (transpose)
                {
                    rowToCol[j] = i;
                    total += costs[j * cols + i];
                }
                else
                {
                    rowToCol[i] = j;
                    total += costs[i * cols + j];
                }
            }
            return total;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(colOf);
        }
    }

    /// <summary>
    /// Shortest augmenting path with potentials on an n x m matrix (n &lt;= m), rows added one at a time; the matrix
    /// element (i, j) is <c>costs[i * m + j]</c>, or <c>costs[j * n + i]</c> when <paramref name="transpose"/> is set.
    /// </summary>
    private static void ShortestAugmentingPath(ReadOnlySpan<double> costs, int n, int m, bool transpose, Span<int> colOf)
    {
        // 1-based arrays; index 0 of the columns is a virtual column holding the row being inserted.
        int len = (n + 1) + 3 * (m + 1);
        double[] dbl = ArrayPool<double>.Shared.Rent(len);
        int[] ints = ArrayPool<int>.Shared.Rent(2 * (m + 1));
        bool[] used = ArrayPool<bool>.Shared.Rent(m + 1);
        try
        {
            Span<double> u = dbl.AsSpan(0, n + 1);
            Span<double> v = dbl.AsSpan(n + 1, m + 1);
            Span<double> minv = dbl.AsSpan(n + 1 + m + 1, m + 1);
            Span<int> rowOfCol = ints.AsSpan(0, m + 1); // row matched to column j (0 = none)
            Span<int> way = ints.AsSpan(m + 1, m + 1);
            Span<bool> usedCol = used.AsSpan(0, m + 1);
            u.Clear();
            v.Clear();
            rowOfCol.Clear();
            way.Clear();

            for (int i = 1; i <= n; i++)
            {
                rowOfCol[0] = i;
                int j0 = 0;
                minv.Fill(double.PositiveInfinity);
                usedCol.Clear();
                do
                {
                    usedCol[j0] = true;
                    int i0 = rowOfCol[j0];
                    double delta = double.PositiveInfinity;
                    int j1 = -1;
                    for (int j = 1; j <= m; j++)
                    {
                        if (usedCol[j]) continue;
                        double c = transpose ? costs[(j - 1) * n + (i0 - 1)] : costs[(i0 - 1) * m + (j - 1)];
                        double cur = c - u[i0] - v[j];
                        if (cur < minv[j])
                        {
                            minv[j] = cur;
                            way[j] = j0;
                        }
                        if (minv[j] < delta)
                        {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                    for (int j = 0; j <= m; j++)
                    {
                        if (usedCol[j])
                        {
                            u[rowOfCol[j]] += delta;
                            v[j] -= delta;
                        }
                        else
                        {
                            minv[j] -= delta;
                        }
                    }
                    j0 = j1;
                } while (rowOfCol[j0] != 0);
                do
                {
                    int j1 = way[j0];
                    rowOfCol[j0] = rowOfCol[j1];
                    j0 = j1;
                } while (j0 != 0);
            }
            for (int j = 1; j <= m; j++)
                if (rowOfCol[j] != 0) colOf[rowOfCol[j] - 1] = j - 1;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(dbl);
            ArrayPool<int>.Shared.Return(ints);
            ArrayPool<bool>.Shared.Return(used);
        }
    }

    private static void CheckShape(ReadOnlySpan<double> costs, int rows, int cols, Span<int> rowToCol, Span<int> colToRow)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "must not be negative");
        if (cols < 0) throw new ArgumentOutOfRangeException(nameof(cols), cols, "must not be negative");
        if (costs.Length < rows * cols) throw new ArgumentException($"costs has {costs.Length} entries, needs {rows * cols}", nameof(costs));
        if (rowToCol.Length < rows) throw new ArgumentException($"rowToCol has {rowToCol.Length} entries, needs {rows}", nameof(rowToCol));
        if (colToRow.Length < cols) throw new ArgumentException($"colToRow has {colToRow.Length} entries, needs {cols}", nameof(colToRow));
    }
}
