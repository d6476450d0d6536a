namespace StreamVision.Sinks;

/// <summary>
/// A bounded FIFO for event sinks that may be cut off from their destination (broker down, web server slow): adding never
/// blocks; when full the oldest item is pushed out and handed back so the caller counts it. Items taken out for sending
/// can be put back at the front when sending failed. Thread-safe.
/// </summary>
internal sealed class EventBuffer<T>
{
    private readonly T[] _ring;
    private readonly object _gate = new();
    private int _head, _count;
    private TaskCompletionSource? _waiter;

    public EventBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new T[capacity];
    }

    public int Capacity => _ring.Length;

    public int Count
    {
        get
        {
            lock (_gate) return _count;
        }
    }

    /// <summary>Adds at the back. Returns true and the pushed-out oldest item in <paramref name="dropped"/> when it was full.</summary>
    public bool Add(T item, out T dropped)
    {
        TaskCompletionSource? wake;
        bool full;
        lock (_gate)
        {
            full = _count == _ring.Length;
            dropped = default!;
            if (full)
            {
                dropped = _ring[_head];
                _ring[_head] = item;
                _head = (_head + 1) % _ring.Length;
            }
            else
            {
                _ring[(_head + _count) % _ring.Length] = item;
                _count++;
            }
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult();
        return full;
    }

    /// <summary>
    /// Puts <paramref name="items"/> (oldest first) back at the front, ahead of everything queued. Those that no longer fit
    /// are the oldest of all and are added to <paramref name="dropped"/>.
    /// </summary>
    public void PushFront(IReadOnlyList<T> items, List<T> dropped)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            for (int i = items.Count - 1; i >= 0; i--)
            {
                if (_count == _ring.Length)
                {
                    for (int j = 0; j <= i; j++) dropped.Add(items[j]);
                    break;
                }
                _head = (_head - 1 + _ring.Length) % _ring.Length;
                _ring[_head] = items[i];
                _count++;
            }
            wake = _count > 0 ? _waiter : null;
            if (wake is not null) _waiter = null;
        }
        wake?.TrySetResult();
    }

    public bool TryTake(out T item)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                item = default!;
                return false;
            }
            item = _ring[_head];
            _ring[_head] = default!;
            _head = (_head + 1) % _ring.Length;
            _count--;
            return true;
        }
    }

    /// <summary>Moves up to <paramref name="max"/> items, oldest first, into <paramref name="into"/>; returns how many.</summary>
    public int TakeUpTo(int max, List<T> into)
    {
        int n = 0;
        while (n < max && TryTake(out var item))
        {
            into.Add(item);
            n++;
        }
        return n;
    }

    /// <summary>Removes and returns everything queued.</summary>
    public List<T> TakeAll()
    {
        var all = new List<T>();
        TakeUpTo(int.MaxValue, all);
        return all;
    }

    /// <summary>Completes when the buffer holds at least one item (at once if it does now).</summary>
    public Task WaitAsync(CancellationToken ct)
    {
        Task t;
        lock (_gate)
        {
            if (_count > 0) return Task.CompletedTask;
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            t = _waiter.Task;
        }
        return t.WaitAsync(ct);
    }
}
