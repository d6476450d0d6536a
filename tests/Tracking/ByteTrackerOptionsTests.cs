using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

public partial class ByteTrackerOptionsTests
{
    [Fact]
    public void Defaults_AreValid()
    {
        var o = new ByteTrackerOptions().Validate();
        Assert.True(o.LowScore < o.HighScore);
        Assert.True(o.NewTrackScore >= o.HighScore);
        Assert.True(o.LostTimeoutSeconds > 1, "an object hidden for 1 s must come back with its id");
    }

    public static TheoryData<ByteTrackerOptions, string> Invalid => new()
    {
        { new ByteTrackerOptions { HighScore = float.NaN }, "tracker.highScore" },
        { new ByteTrackerOptions { LowScore = 0.8f }, "tracker.lowScore" },
        { new ByteTrackerOptions { NewTrackScore = float.PositiveInfinity }, "tracker.newTrackScore" },
        { new ByteTrackerOptions { HighMatchMinSimilarity = 1f }, "tracker.highMatchMinSimilarity" },
        { new ByteTrackerOptions { LowMatchMinIoU = -0.1f }, "tracker.lowMatchMinIoU" },
        { new ByteTrackerOptions { TentativeMatchMinSimilarity = 2f }, "tracker.tentativeMatchMinSimilarity" },
        { new ByteTrackerOptions { MinHits = 0 }, "tracker.minHits" },
        { new ByteTrackerOptions { LostTimeoutSeconds = -1 }, "tracker.lostTimeoutSeconds" },
        { new ByteTrackerOptions { LostTimeoutSeconds = double.PositiveInfinity }, "tracker.lostTimeoutSeconds" },
        { new ByteTrackerOptions { MaxTracks = 0 }, "tracker.maxTracks" },
        { new ByteTrackerOptions { LostMatching = (LostTrackMatching)7 }, "tracker.lostMatching" },
        { new ByteTrackerOptions { LostMatchMinSimilarity = 1.5f }, "tracker.lostMatchMinSimilarity" },
        { new ByteTrackerOptions { DirectionWeight = -0.1f }, "tracker.directionWeight" },
        { new ByteTrackerOptions { SharedDetectionIoU = float.NaN }, "tracker.sharedDetectionIoU" },
        { new ByteTrackerOptions { SharedDetectionWidthRatio = 11 }, "tracker.sharedDetectionWidthRatio" },
        { new ByteTrackerOptions { LostBoxBuffer = 3 }, "tracker.lostBoxBuffer" },
        { new ByteTrackerOptions { TentativeMaxMisses = -1 }, "tracker.tentativeMaxMisses" },
        { new ByteTrackerOptions { NewTrackMaxIoU = 1.1f }, "tracker.newTrackMaxIoU" },
        { new ByteTrackerOptions { Kalman = new() { PositionNoise = -1 } }, "tracker.kalman.positionNoise" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_ThrowsNamingTheField(ByteTrackerOptions options, string path)
    {
        var e = Assert.Throws<OptionsException>(() => new ByteTracker(options));
        Assert.Equal(path, e.Path);
    }
}
