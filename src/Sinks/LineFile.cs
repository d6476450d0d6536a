using System.Buffers;
using System.Diagnostics;
using System.Text;

namespace StreamVision.Sinks;

/// <summary>
/// A text file written in whole lines, for the event and track sinks. Lines are gathered in memory and handed to the
/// operating system in one write call holding only whole lines: when the batch ends (flush interval
/// 0) or at most every <c>flushIntervalMs</c>. A process killed at any moment leaves whole lines (what the OS was given
/// survives a process kill; a power loss can lose what the OS had not written yet). A file that ends in a partial line when
/// opened (a crash of an older version, a full disk) is cut back to its last whole line. A failed write (disk full) is
/// undone to the last whole line, the file is closed (a file deleted to make room is not held open) and the lines are
/// dropped and counted; the file is opened again (appending) every <c>retrySeconds</c>. Not thread-safe: one sink loop.
/// </summary>
internal sealed class LineFile : IDisposable
{
    private static readonly UTF8Encoding s_utf8 = new(false);
    private readonly double _flushIntervalMs;
    private readonly double _retrySeconds;
    private readonly ArrayBufferWriter<byte> _pending = new(4096);
    private readonly SinkHealthTracker _health = new();
    private FileStream? _file;
    private bool _truncate;
    private int _pendingLines;
    private long _lastFlush;
    private long _retryAt;

    /// <param name="append">False: the first open empties the file (later reopens after a failure append).</param>
    public LineFile(string path, bool append, double flushIntervalMs, double retrySeconds)
    {
        Path = path;
        _truncate = !append;
        _flushIntervalMs = flushIntervalMs;
        _retrySeconds = retrySeconds;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        Open(); // a file that cannot be opened at all is the caller's configuration error
        _lastFlush = Stopwatch.GetTimestamp();
    }

    public string Path { get; }
    /// <summary>Bytes in the file (what was written, not what is pending).</summary>
    public long Length { get; private set; }
    /// <summary>Lines written to the file.</summary>
    public long LinesWritten { get; private set; }
    /// <summary>Lines gathered, not yet written (a flush interval).</summary>
    public int PendingLines => Volatile.Read(ref _pendingLines);
    /// <summary>Lines given up on because the file could not be written.</summary>
    public long LinesDropped { get; private set; }
    /// <summary>Connected while the file is open; faulted with the error while it is closed after a failure.</summary>
    public SinkHealth Health => _health.Current;
    /// <summary>Called with the number of lines dropped and why, each time a write fails or is skipped while faulted.</summary>
    public Action<int, string>? Dropped { get; init; }

    /// <summary>Adds one line (without its newline) to the pending batch.</summary>
    public void Append(string line)
    {
        int max = s_utf8.GetMaxByteCount(line.Length) + 1;
        var span = _pending.GetSpan(max);
        int n = s_utf8.GetBytes(line, span);
        span[n] = (byte)'\n';
        _pending.Advance(n + 1);
        _pendingLines++;
    }

    /// <summary>End of a batch (a frame): writes what is pending when the flush interval says so. Returns true when it wrote.</summary>
    public bool EndBatch()
    {
        if (_pendingLines == 0) return false;
        if (_flushIntervalMs > 0 && Stopwatch.GetElapsedTime(_lastFlush).TotalMilliseconds < _flushIntervalMs) return false;
        return Flush();
    }

    /// <summary>Writes everything pending now, in one write call. Returns false when it could not (the lines were dropped and counted).</summary>
    public bool Flush()
    {
        _lastFlush = Stopwatch.GetTimestamp();
        if (_pendingLines == 0) return true;
        int lines = _pendingLines;
        try
        {
            if (_file is null)
            {
                if (Stopwatch.GetTimestamp() < _retryAt)
                {
                    DropPending(lines, Health.Reason ?? "file closed after a failure");
                    return false;
                }
                Open();
            }
            long before = Length;
            try
            {
                _file!.Write(_pending.WrittenSpan);
            }
            catch (IOException)
            {
                // A partial write (the disk filled up mid-batch) is undone: the file keeps ending in a whole line.
                try
                {
                    _file!.SetLength(before);
                }
                catch (IOException)
                {
                }
                throw;
            }
            Length = before + _pending.WrittenCount;
            LinesWritten += lines;
            _pending.ResetWrittenCount();
            _pendingLines = 0;
            _health.Set(SinkState.Connected);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Close();
            _health.Set(SinkState.Faulted, ex.Message);
            _retryAt = Stopwatch.GetTimestamp() + (long)(_retrySeconds * Stopwatch.Frequency);
            DropPending(lines, ex.Message);
            return false;
        }
    }

    private void DropPending(int lines, string why)
    {
        _pending.ResetWrittenCount();
        _pendingLines = 0;
        LinesDropped += lines;
        Dropped?.Invoke(lines, why);
    }

    /// <summary>Closes the file, lets <paramref name="move"/> rename or delete it, opens a new one (rotation).</summary>
    public void Reopen(Action move)
    {
        Close();
        move();
        _truncate = false;
        Open();
    }

    private void Open()
    {
        var fs = new FileStream(Path, _truncate ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            if (fs.CanSeek)
            {
                long length = fs.Length;
                long whole = length > 0 ? LastWholeLine(fs, length) : 0;
                if (whole != length) fs.SetLength(whole);
                fs.Position = whole;
            }
        }
        catch
        {
            fs.Dispose();
            throw;
        }
        _truncate = false;
        _file = fs;
        Length = fs.CanSeek ? fs.Length : 0;
    }

    /// <summary>The length up to and including the last newline (0 when there is none).</summary>
    private static long LastWholeLine(FileStream fs, long length)
    {
        var buf = new byte[4096];
        long end = length;
        while (end > 0)
        {
            int n = (int)Math.Min(buf.Length, end);
            fs.Position = end - n;
            fs.ReadExactly(buf, 0, n);
            int i = Array.LastIndexOf(buf, (byte)'\n', n - 1, n);
            if (i >= 0) return end - n + i + 1;
            end -= n;
        }
        return 0;
    }

    private void Close()
    {
        var f = _file;
        _file = null;
        try
        {
            f?.Dispose();
        }
        catch (IOException)
        {
        }
    }

    public void Dispose() => Close();
}
