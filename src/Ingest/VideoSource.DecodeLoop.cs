using System.Diagnostics;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Ingest;

public sealed partial class VideoSource
{
    private enum SessionStart { First, Loop, Reconnect }

    // Decode-thread state (touched only by the decode thread).
    private long _sequence;
    private TimeSpan _ptsOffset;
    private TimeSpan? _lastPts;
    private TimeSpan _lastDelta;
    private TimeSpan? _lastRawPts;         // the source's own timestamp of the last frame on this connection or pass
    private TimeSpan _frameInterval;
    private long _lastFrameTimestamp;
    private long _readerCorruptSeen;
    private SessionStart? _pendingSession;
    private int _burstLeft;                // live: frames of the connect burst still to deliver without dropping
    private long _burstWaitLeft;           // live: Stopwatch ticks the connect burst may still wait for room in all

    /// <summary>
    /// Live sources: at (re)connect FFmpeg hands over at once what it buffered while probing the stream (about 20 frames
    /// for RTSP: it reads that many to estimate the frame rate), far faster than real time. Those frames wait for room in
    /// the queue (two seconds in all) instead of pushing each other out; the burst ends after this many frames, after that
    /// wait, or as soon as a read has to wait for the network (the source is live again).
    /// </summary>
    private const int ConnectBurstFrames = 64;

    private bool Stopping => _stop.IsCancellationRequested;

    private void Run()
    {
        Exception? error = null;
        try
        {
            error = IsLive ? RunLive() : RunFile();
        }
        catch (OperationCanceledException) when (Stopping)
        {
            // Stopped while opening, waiting for the pool or the channel, or backing off.
        }
        catch (MediaException) when (Stopping)
        {
            // Stopped while reading (interrupted).
        }
        catch (Exception ex)
        {
            // Not a media failure (a pool cap smaller than one frame, a bug): still this stream's failure only.
            error = new SourceException(StreamId, ex.Message, ex);
        }
        finally
        {
            if (error is not null)
            {
                SetLastError(error);
                Log.Failed(_logger, StreamId, Unprefixed(error), error is SourceException { InnerException: MediaException or null } ? null : error.InnerException);
                SetState(SourceState.Failed);
            }
            else
            {
                if (Stopping) Log.Stopped(_logger, StreamId, FramesDecoded);
                SetState(SourceState.Ended);
            }
            lock (_gate) _reader = null;
            _channel.Writer.TryComplete(error);
            _loopDone.TrySetResult();
        }
    }

    private Exception? RunFile()
    {
        SetState(SourceState.Connecting);
        MediaReader reader;
        try
        {
            reader = OpenReader();
        }
        catch (MediaException ex) when (!Stopping)
        {
            return Fail(ex);
        }
        try
        {
            BeginSession(reader, SessionStart.First);
            while (true)
            {
                long pass = Pump(reader);
                if (!_options.Loop || Stopping) break;
                if (pass == 0) break;   // nothing to loop: an empty file would spin forever
                Log.Looping(_logger, StreamId, _redactedUrl);
                try
                {
                    reader.Rewind();
                    BeginSession(reader, SessionStart.Loop);
                }
                catch (MediaException ex) when (!Stopping && ex.Kind != MediaErrorKind.Interrupted)
                {
                    // Not seekable (a pipe, a file over HTTP without ranges): open it again instead.
                    Detach(reader);
                    reader.Dispose();
                    reader = OpenReader();
                    BeginSession(reader, SessionStart.Loop);
                }
            }
            Log.FileEnded(_logger, StreamId, FramesDecoded, CorruptPackets);
            return null;
        }
        catch (MediaException ex) when (!Stopping)
        {
            return Fail(ex);
        }
        finally
        {
            Detach(reader);
            reader.Dispose();
        }
    }

    private Exception? RunLive()
    {
        int failures = 0;        // consecutive connections that failed without delivering a frame
        bool retry = false;
        while (!Stopping)
        {
            SetState(SourceState.Connecting);
            int attempt = 0;
            if (retry)
            {
                attempt = (int)Interlocked.Increment(ref _reconnectAttempts);
                Log.ReconnectAttempt(_logger, StreamId, attempt, _redactedUrl);
            }
            long decodedBefore = FramesDecoded;
            MediaReader? reader = null;
            Exception failure;
            try
            {
                reader = OpenReader();
                if (retry)
                {
                    Interlocked.Increment(ref _reconnects);
                    _metrics.ReconnectOk?.Inc();
                    Log.Reconnected(_logger, StreamId, _redactedUrl, attempt);
                    // Recovered: CurrentError is null again while streaming; LastError stays, with its time, for the API.
                }
                BeginSession(reader, retry ? SessionStart.Reconnect : SessionStart.First);
                Pump(reader);
                failure = new SourceException(StreamId, $"'{_redactedUrl}' ended");
            }
            catch (MediaException ex) when (!Stopping)
            {
                if (reader is null)
                {
                    if (retry) _metrics.ReconnectFailed?.Inc();
                    // Configuration errors do not heal by retrying.
                    if (ex.Kind is MediaErrorKind.Argument or MediaErrorKind.UnknownOption or MediaErrorKind.CodecUnavailable) return Fail(ex);
                }
                failure = Fail(ex);
            }
            finally
            {
                if (reader is not null)
                {
                    Detach(reader);
                    reader.Dispose();
                }
            }
            retry = true;
            SetLastError(failure);
            if (FramesDecoded > decodedBefore) failures = 0;
            failures++;
            if (_options.MaxReconnectAttempts > 0 && failures > _options.MaxReconnectAttempts)
            {
                return new SourceException(StreamId,
                    $"gave up after {_options.MaxReconnectAttempts} reconnect attempts; last error: {Unprefixed(failure)}", failure.InnerException);
            }
            var delay = _backoff.Delay(failures);
            SetState(SourceState.Backoff);
            Log.WillReconnect(_logger, StreamId, Unprefixed(failure), delay.TotalMilliseconds, failures);
            if (_stop.Token.WaitHandle.WaitOne(delay)) break;
        }
        return null;
    }

    /// <summary>Decodes until the end of the stream; returns the frames decoded. Throws on read errors and when stopped.</summary>
    private long Pump(MediaReader reader)
    {
        var ct = _stop.Token;
        long decoded = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            long t0 = Stopwatch.GetTimestamp();
            bool got = reader.TryGrabFrame(out var info);
            long t1 = Stopwatch.GetTimestamp();
            if (_burstLeft > 0 && _frameInterval > TimeSpan.Zero && (t1 - t0) * 2 > _frameInterval.TotalSeconds * Stopwatch.Frequency)
                _burstLeft = 0; // this read waited for the network: the buffered burst is over
            CountCorrupt(reader);
            if (!got) return decoded;
            decoded++;
            long sequence = _sequence++;
            Interlocked.Increment(ref _framesDecoded);
            _metrics.FramesDecoded.Inc();
            var pts = NextPts(info.Pts, t1);
            if (!_limiter.ShouldKeep(pts))
            {
                Interlocked.Increment(ref _framesSkipped);
                _metrics.SkippedMaxFps.Inc();
                continue;
            }
            var (width, height) = OutputSize(info.SourceWidth, info.SourceHeight);
            Frame frame;
            if (IsLive)
            {
                if (!_pool.TryRent(width, height, out frame))
                {
                    // Consumers hold the whole pool: stay real-time, lose this frame (not converted at all).
                    Interlocked.Increment(ref _framesDropped);
                    _metrics.DroppedPoolExhausted.Inc();
                    continue;
                }
            }
            else
            {
                var rent = _pool.RentAsync(width, height, ct);
                frame = rent.IsCompletedSuccessfully ? rent.Result : rent.AsTask().GetAwaiter().GetResult();
            }
            try
            {
                long t2 = Stopwatch.GetTimestamp();
                reader.RetrieveFrame(frame);
                long t3 = Stopwatch.GetTimestamp();
                _metrics.DecodeSeconds.Observe((double)(t1 - t0 + t3 - t2) / Stopwatch.Frequency);
                frame.StreamId = StreamId;
                frame.Sequence = sequence;
                frame.Pts = pts;
                frame.CaptureTime = DateTimeOffset.UtcNow;
                frame.CaptureTimestamp = t3;
            }
            catch
            {
                frame.Dispose();
                throw;
            }
            Deliver(frame, ct);
        }
    }

    /// <summary>Writes the frame to the channel, taking ownership of it. Files wait for room; live drops the oldest.</summary>
    private void Deliver(Frame frame, CancellationToken ct)
    {
        var writer = _channel.Writer;
        try
        {
            if (IsLive && _burstLeft > 0)
            {
                _burstLeft--;
                WaitForRoom(ct);
            }
            while (!writer.TryWrite(frame))
            {
                if (IsLive)
                {
                    frame.Dispose();   // only when the channel is complete: nobody will read it
                    return;
                }
                var wait = writer.WaitToWriteAsync(ct);
                if (!(wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult()))
                {
                    frame.Dispose();
                    return;
                }
            }
        }
        catch
        {
            frame.Dispose();
            throw;
        }
        Interlocked.Increment(ref _framesDelivered);
    }

    /// <summary>During a connect burst: waits until the queue has room (within the burst's wait budget), so the burst is not dropped.</summary>
    private void WaitForRoom(CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        long deadline = start + _burstWaitLeft;
        while (_channel.Reader.Count >= _options.ChannelCapacity && Stopwatch.GetTimestamp() < deadline)
        {
            if (ct.WaitHandle.WaitOne(2)) break;
        }
        _burstWaitLeft -= Stopwatch.GetTimestamp() - start;
        if (_burstWaitLeft <= 0) _burstLeft = 0; // the consumer is slow, not the burst: back to dropping the oldest
    }

    private MediaReader OpenReader()
    {
        long start = Stopwatch.GetTimestamp();
        var reader = MediaReader.Open(Resolved.Url, _readerOptions, _stop.Token);
        var info = reader.Info;
        Log.Opened(_logger, StreamId, _redactedUrl, info.Format, info.Codec, info.Width, info.Height, info.Fps,
            IsLive ? "live" : "file", Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        if (_readerOptions.HwAccel is { } hw && string.IsNullOrEmpty(info.HwAccel))
            Log.HardwareFallback(_logger, StreamId, hw, reader.HardwareStatus);
        return reader;
    }

    /// <summary>Makes <paramref name="reader"/> the one <see cref="StopAsync"/> interrupts, and resets per-connection state.</summary>
    private void BeginSession(MediaReader reader, SessionStart kind)
    {
        bool newReader;
        lock (_gate)
        {
            newReader = !ReferenceEquals(_reader, reader);
            _reader = reader;
        }
        if (Stopping) reader.Interrupt();   // StopAsync ran before the reader was visible to it
        if (newReader) _readerCorruptSeen = 0;
        var info = reader.Info;
        Volatile.Write(ref _info, info);
        Volatile.Write(ref _hardwareStatus, reader.HardwareStatus);
        _frameInterval = info.Fps is > 0 and < 1000 ? TimeSpan.FromSeconds(1 / info.Fps) : TimeSpan.Zero;
        _lastRawPts = null;
        _pendingSession = kind;
        _burstLeft = IsLive ? ConnectBurstFrames : 0;
        _burstWaitLeft = 2 * Stopwatch.Frequency;
        SetState(SourceState.Streaming);
    }

    private void Detach(MediaReader reader)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_reader, reader)) _reader = null;
        }
    }

    /// <summary>
    /// The frame's timestamp on the stream's own timeline, strictly increasing: the source's presentation time, shifted
    /// after a loop or a reconnect so that time keeps going forward (a loop continues one frame interval after the last
    /// frame; a reconnect after the wall-clock time the stream was away) and re-based when the source jumps back. A frame
    /// without a timestamp gets the previous one plus a frame interval (0 at the start of a connection).
    /// </summary>
    private TimeSpan NextPts(TimeSpan? sourcePts, long now)
    {
        var interval = _frameInterval > TimeSpan.Zero ? _frameInterval
            : _lastDelta > TimeSpan.Zero ? _lastDelta : TimeSpan.FromMilliseconds(40);
        TimeSpan raw;
        if (sourcePts is { } p) raw = p;
        else if (_lastRawPts is { } lr) raw = lr + (_frameInterval > TimeSpan.Zero ? _frameInterval : Stopwatch.GetElapsedTime(_lastFrameTimestamp, now));
        else raw = TimeSpan.Zero;

        if (_pendingSession is { } kind)
        {
            _pendingSession = null;
            if (kind != SessionStart.First && _lastPts is { } last)
            {
                var gap = interval;
                if (kind == SessionStart.Reconnect)
                {
                    var away = Stopwatch.GetElapsedTime(_lastFrameTimestamp, now);
                    if (away > gap) gap = away;
                }
                _ptsOffset = last + gap - raw;
            }
        }
        var pts = raw + _ptsOffset;
        if (_lastPts is { } previous)
        {
            if (pts <= previous)
            {
                // The source went back in time (a timestamp reset, a broken stream): re-base, keep going forward.
                _ptsOffset += previous + interval - pts;
                pts = previous + interval;
            }
            else
            {
                _lastDelta = pts - previous;
            }
        }
        _lastRawPts = raw;
        _lastPts = pts;
        _lastFrameTimestamp = now;
        return pts;
    }

    private (int Width, int Height) OutputSize(int sourceWidth, int sourceHeight)
    {
        if (sourceWidth <= 0 || sourceHeight <= 0)
        {
            var info = Info;
            sourceWidth = Math.Max(1, info?.Width ?? 1);
            sourceHeight = Math.Max(1, info?.Height ?? 1);
        }
        int w = _options.OutputWidth, h = _options.OutputHeight;
        if (w > 0 && h > 0) return (w, h);
        if (w > 0) return (w, Math.Max(1, (int)Math.Round((double)w * sourceHeight / sourceWidth)));
        if (h > 0) return (Math.Max(1, (int)Math.Round((double)h * sourceWidth / sourceHeight)), h);
        return (sourceWidth, sourceHeight);
    }

    private void CountCorrupt(MediaReader reader)
    {
        long total = reader.CorruptPackets;
        long delta = total - _readerCorruptSeen;
        if (delta <= 0) return;
        _readerCorruptSeen = total;
        long all = Interlocked.Add(ref _corruptPackets, delta);
        _metrics.CorruptPackets.Inc(delta);
        // One warning at the first and at every power of ten: visible, not a flood.
        if (all - delta < 1 || Math.Floor(Math.Log10(all)) > Math.Floor(Math.Log10(Math.Max(1, all - delta))))
            Log.CorruptSkipped(_logger, StreamId, all);
    }

    /// <summary>This stream's failure from a native one, with the URL's password left out.</summary>
    private SourceException Fail(MediaException ex) =>
        new(StreamId, ex.Message.Replace(Resolved.Url, _redactedUrl, StringComparison.Ordinal), ex);

    private string Unprefixed(Exception ex)
    {
        string prefix = $"stream '{StreamId}': ";
        return ex.Message.StartsWith(prefix, StringComparison.Ordinal) ? ex.Message[prefix.Length..] : ex.Message;
    }
}
