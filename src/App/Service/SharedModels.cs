using System.Collections.Concurrent;

namespace StreamVision.App.Service;

/// <summary>
/// Models of one kind the instance's streams use (camera-tamper, enhancement), one per file and variant, loaded when a
/// stream first needs one and shared by every stream naming it; disposed with the instance.
/// </summary>
public sealed class SharedModels<T> : IDisposable where T : class, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<T>> _models = new(StringComparer.Ordinal);
    private readonly Func<string, int, T> _load;

    /// <param name="load">Loads a model from its full path and variant (e.g. its thread count).</param>
    public SharedModels(Func<string, int, T> load) => _load = load;

    /// <summary>The model at <paramref name="path"/>; throws <see cref="Inference.ModelException"/> when it cannot be loaded (and tries again next time).</summary>
    public T Get(string path, int variant = 0)
    {
        string full = Path.GetFullPath(path);
        string key = $"{full}|{variant}";
        var lazy = _models.GetOrAdd(key, _ => new Lazy<T>(() => _load(full, variant)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _models.TryRemove(new KeyValuePair<string, Lazy<T>>(key, lazy));
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var m in _models.Values)
            if (m.IsValueCreated) m.Value.Dispose();
        _models.Clear();
    }
}
