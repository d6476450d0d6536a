using System.Text;

namespace StreamVision.Cluster;

/// <summary>
/// Rendezvous (highest-random-weight) hashing: each stream ranks the live members by a hash of (stream, member) and the
/// first one should own it. Every instance computes the same ranking from the same member list, load spreads evenly, and
/// when a member joins or leaves only the streams it wins or held move. The hash is FNV-1a 64 with a SplitMix64
/// finaliser over UTF-8 text: stable across processes, machines and runtime versions (unlike <c>string.GetHashCode</c>).
/// </summary>
public static class Rendezvous
{
    /// <summary>The weight of <paramref name="member"/> for <paramref name="stream"/>.</summary>
    public static ulong Weight(string stream, string member)
    {
        ulong h = 14695981039346656037UL;
        h = Fnv(h, stream);
        h = (h ^ 0x1F) * 1099511628211UL; // a separator no id contains (ids are letters, digits, '-', '_', '.')
        h = Fnv(h, member);
        // SplitMix64 finaliser: FNV alone spreads similar short ids poorly.
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return h;
    }

    /// <summary><paramref name="members"/> ordered from the one that should own <paramref name="stream"/> to the last resort.</summary>
    public static IReadOnlyList<string> Rank(string stream, IEnumerable<string> members) =>
        members.Distinct(StringComparer.Ordinal)
            .OrderByDescending(m => Weight(stream, m))
            .ThenBy(m => m, StringComparer.Ordinal)
            .ToList();

    /// <summary>The member that should own <paramref name="stream"/>, or null when there is none.</summary>
    public static string? Owner(string stream, IEnumerable<string> members) => Rank(stream, members).FirstOrDefault();

    private static ulong Fnv(ulong h, string s)
    {
        Span<byte> buffer = stackalloc byte[256];
        int n = Encoding.UTF8.GetMaxByteCount(s.Length) <= buffer.Length ? Encoding.UTF8.GetBytes(s, buffer) : -1;
        ReadOnlySpan<byte> bytes = n >= 0 ? buffer[..n] : Encoding.UTF8.GetBytes(s);
        foreach (byte b in bytes) h = (h ^ b) * 1099511628211UL;
        return h;
    }
}
