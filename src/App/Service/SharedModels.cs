namespace StreamVision.App.Service;

/// <summary>
/// Models of one kind the instance's streams use (camera-tamper, enhancement), one per file and variant, loaded when a
/// stream first needs one and shared by every stream naming it. Each stream holds a <see cref="Lease"/>; the model is
/// disposed (its ONNX Runtime session freed) when the last lease on it is released, so streams deleted through the API
/// leave no session behind; what is left is disposed with the instance.
/// </summary>
public sealed class SharedModels<T> : IDisposable where T : class, IDisposable
{
    private sealed class Entry(T model)
    {
        public T Model { get; } = model;
        public int Leases;
    }

    private readonly Dictionary<string, Entry> _models = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly Func<string, int, T> _load;

    /// <param name="load">Loads a model from its full path and variant (e.g. its thread count).</param>
    public SharedModels(Func<string, int, T> load) => _load = load;

    /// <summary>Models loaded now (each with at least one lease).</summary>
    public int Count
    {
        get { lock (_gate) return _models.Count; }
    }

    /// <summary>
    /// A lease on the model at <paramref name="path"/>, loading it when no stream holds it; throws
    /// <see cref="Inference.ModelException"/> when it cannot be loaded (and tries again next time). Loads run one at a time.
    /// </summary>
    public Lease Acquire(string path, int variant = 0)
    {
        string key = $"{Path.GetFullPath(path)}|{variant}";
        lock (_gate)
        {
            if (!_models.TryGetValue(key, out var entry))
            {
                entry = new Entry(_load(Path.GetFullPath(path), variant));
                _models[key] = entry;
            }
            entry.Leases++;
            return new Lease(this, key, entry.Model);
        }
    }

    private void Release(string key)
    {
        T? unused = null;
        lock (_gate)
        {
            if (_models.TryGetValue(key, out var entry) && --entry.Leases == 0)
            {
                _models.Remove(key);
                unused = entry.Model;
            }
        }
        unused?.Dispose();
    }

    public void Dispose()
    {
        List<T> all;
        lock (_gate)
        {
            all = _models.Values.Select(e => e.Model).ToList();
            _models.Clear();
        }
        foreach (var m in all) m.Dispose();
    }

    /// <summary>One stream's hold on a shared model; <see cref="Dispose"/> once the stream no longer runs it. Idempotent.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly SharedModels<T> _owner;
        private readonly string _key;
        private int _released;

        internal Lease(SharedModels<T> owner, string key, T model)
        {
            _owner = owner;
            _key = key;
            Model = model;
        }

        public T Model { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) _owner.Release(_key);
        }
    }
}
