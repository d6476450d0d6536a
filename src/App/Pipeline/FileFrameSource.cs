using System.Diagnostics;
using System.Threading.Channels;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.App.Pipeline;

/// <summary>
/// A lossless file decoder for offline jobs: decodes on its own thread into pooled frames and writes them into a bounded
/// wait-mode channel (backpressure, every frame kept). Opening happens in <see cref="Start"/>, so a bad input fails there.
/// </summary>
public sealed class FileFrameSource : IAsyncDisposable
{
    private readonly MediaReader _reader;
    private readonly Channel<Frame> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;

    private FileFrameSource(MediaReader reader, string streamId, FramePool pool, long maxFrames, int capacity)
    {
        _reader = reader;
        _channel = Channel.CreateBounded<Frame>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true });
        _loop = Task.Factory.StartNew(() => DecodeAsync(streamId, pool, maxFrames), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public MediaInfo Info => _reader.Info;
    public ChannelReader<Frame> Frames => _channel.Reader;

    public static FileFrameSource Start(string uri, string streamId, FramePool pool, long maxFrames = 0, int capacity = 8)
    {
        var (url, format) = SourceUri.Resolve(uri);
        var reader = MediaReader.Open(url, new MediaReaderOptions { Format = format });
        if (reader.Info.Width <= 0 || reader.Info.Height <= 0)
        {
            reader.Dispose();
            throw new MediaException(-1, uri, $"'{uri}': video stream has no size");
        }
        return new FileFrameSource(reader, streamId, pool, maxFrames, capacity);
    }

    private async Task DecodeAsync(string streamId, FramePool pool, long maxFrames)
    {
        var ct = _stop.Token;
        var writer = _channel.Writer;
        double fps = _reader.Info.Fps > 0 ? _reader.Info.Fps : 25;
        long seq = 0;
        try
        {
            while (!ct.IsCancellationRequested && (maxFrames <= 0 || seq < maxFrames))
            {
                var frame = await pool.RentAsync(_reader.Info.Width, _reader.Info.Height, ct).ConfigureAwait(false);
                bool ok;
                try
                {
                    ok = _reader.TryReadFrame(frame, out var info);
                    if (ok && info.Pts is null) frame.Pts = TimeSpan.FromSeconds(seq / fps);
                }
                catch
                {
                    frame.Dispose();
                    throw;
                }
                if (!ok)
                {
                    frame.Dispose();
                    break;
                }
                frame.StreamId = streamId;
                frame.Sequence = seq++;
                frame.CaptureTime = DateTimeOffset.UtcNow;
                frame.CaptureTimestamp = Stopwatch.GetTimestamp();
                try
                {
                    await writer.WriteAsync(frame, ct).ConfigureAwait(false);
                }
                catch
                {
                    frame.Dispose();
                    throw;
                }
            }
            writer.TryComplete();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            writer.TryComplete();
        }
        catch (MediaException ex) when (ex.Kind == MediaErrorKind.Interrupted && ct.IsCancellationRequested)
        {
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _reader.Interrupt();
        await _loop.ConfigureAwait(false);
        while (_channel.Reader.TryRead(out var f)) f.Dispose();
        _reader.Dispose();
        _stop.Dispose();
    }
}
