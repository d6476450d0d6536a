namespace StreamVision.Testing;

/// <summary>
/// A small tmpfs mounted for one test (root only: <c>mount -t tmpfs -o size=N</c>), to fill a disk for real. A filler file
/// takes all but a little room; <see cref="FreeRoom"/> deletes it. Unmounted on dispose.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    public SmallDisk(int kilobytes)
    {
        Root = TestEnvironment.NewTempDir("svdisk");
        try
        {
            TestEnvironment.Run("mount", $"-t tmpfs -o size={kilobytes}k tmpfs \"{Root}\"");
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"this test fills a small tmpfs and needs to mount one (run as root): {ex.Message}", ex);
        }
    }

    public string Root { get; }
    public string Filler => Path.Combine(Root, "filler");

    /// <summary>Fills the disk with a filler file until only about <paramref name="leaveBytes"/> are free.</summary>
    public void Fill(long leaveBytes)
    {
        var info = new DriveInfo(Root);
        long size = Math.Max(0, info.AvailableFreeSpace - leaveBytes);
        using var f = new FileStream(Filler, FileMode.Create, FileAccess.Write);
        var block = new byte[4096];
        Random.Shared.NextBytes(block);
        for (long done = 0; done < size; done += block.Length)
        {
            try
            {
                f.Write(block, 0, (int)Math.Min(block.Length, size - done));
            }
            catch (IOException)
            {
                break;
            }
        }
    }

    public long FreeBytes => new DriveInfo(Root).AvailableFreeSpace;

    /// <summary>Deletes the filler: the disk has room again.</summary>
    public void FreeRoom() => File.Delete(Filler);

    /// <summary>Files under this disk that this process still holds open although they were deleted.</summary>
    public List<string> DeletedButOpen() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
        }).OfType<string>().Where(t => t.StartsWith(Root, StringComparison.Ordinal) && t.EndsWith("(deleted)", StringComparison.Ordinal)).ToList();

    /// <summary>Files under this disk that this process holds open.</summary>
    public List<string> OpenFiles() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
        }).OfType<string>().Where(t => t.StartsWith(Root, StringComparison.Ordinal)).ToList();

    public void Dispose()
    {
        try
        {
            TestEnvironment.Run("umount", $"-l \"{Root}\"");
        }
        catch (InvalidOperationException)
        {
        }
    }
}
