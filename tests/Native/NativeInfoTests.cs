namespace StreamVision.Native.Tests;

public class NativeInfoTests
{
    [Fact]
    public void VersionsAreReported()
    {
        Assert.Matches(@"^\d+\.\d+", NativeInfo.FfmpegVersion);
    }

    [Fact]
    public void TheMallocHeapIsReadWithItsArenas()
    {
        // Something native is allocated in this process (the runtime, FFmpeg, this test's readers elsewhere).
        var heap = NativeInfo.Heap();
        Assert.True(heap.InUseBytes > 0, $"{heap}");
        Assert.Equal(heap.ArenaBytes, heap.InUseBytes + heap.FreeBytes); // glibc's sums over every arena
        Assert.InRange(heap.Arenas, 1, 8 * Environment.ProcessorCount + 1);
        Assert.True(heap.MmapBytes >= 0);
        Assert.True(NativeInfo.LiveReaders >= 0 && NativeInfo.LiveWriters >= 0);
    }
}
