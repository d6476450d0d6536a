namespace StreamVision.Native.Tests;

public class NativeInfoTests
{
    [Fact]
    public void VersionsAreReported()
    {
        Assert.Matches(@"^\d+\.\d+", NativeInfo.FfmpegVersion);
    }
}
