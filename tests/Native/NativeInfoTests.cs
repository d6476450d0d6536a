namespace StreamVision.Native.Tests;

public class NativeInfoTests
{
    [Fact]
    public void VersionsAreReported()
    {
        Assert.Matches(@"^\d+\.\d+", NativeInfo.FfmpegVersion);
        Assert.Matches(@"^4\.\d+\.\d+", NativeInfo.OpenCvVersion);
    }
}
