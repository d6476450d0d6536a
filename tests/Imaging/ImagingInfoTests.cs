namespace StreamVision.Imaging.Tests;

public class ImagingInfoTests
{
    [Fact]
    public void OpenCvVersionIsOpenCvSharps()
    {
        Assert.Matches(@"^4\.\d+\.\d+", ImagingInfo.OpenCvVersion);
    }
}
