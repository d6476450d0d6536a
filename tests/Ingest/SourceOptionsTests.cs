using StreamVision.Core;

namespace StreamVision.Ingest.Tests;

public class SourceOptionsTests
{
    [Fact]
    public void DefaultsAreValidAndModeFollowsTheUri()
    {
        var file = new SourceOptions { Uri = "/data/clip.mp4" };
        file.Validate();
        Assert.True(file.IsFile);
        Assert.Equal("clip", file.StreamId);
        var cam = new SourceOptions { Uri = "rtsp://cam/s", Id = "door" };
        Assert.False(cam.IsFile);
        Assert.Equal("door", cam.StreamId);
        Assert.True((cam with { Mode = SourceMode.File }).IsFile);
        Assert.False((file with { Mode = SourceMode.Live }).IsFile);
    }

    [Theory]
    [InlineData("uri")]
    [InlineData("maxFps")]
    [InlineData("decoderThreads")]
    [InlineData("readTimeout")]
    [InlineData("reconnectInitialDelay")]
    [InlineData("reconnectMaxDelay")]
    [InlineData("reconnectJitter")]
    [InlineData("maxReconnectAttempts")]
    [InlineData("outputWidth")]
    [InlineData("channelCapacity")]
    [InlineData("loop")]
    public void ValidateNamesTheBadField(string field)
    {
        var ok = new SourceOptions { Uri = "rtsp://cam/s" };
        var bad = field switch
        {
            "uri" => ok with { Uri = " " },
            "maxFps" => ok with { MaxFps = -1 },
            "decoderThreads" => ok with { DecoderThreads = 65 },
            "readTimeout" => ok with { ReadTimeout = TimeSpan.FromSeconds(-1) },
            "reconnectInitialDelay" => ok with { ReconnectInitialDelay = TimeSpan.Zero },
            "reconnectMaxDelay" => ok with { ReconnectMaxDelay = TimeSpan.FromMilliseconds(100) },
            "reconnectJitter" => ok with { ReconnectJitter = 1.5 },
            "maxReconnectAttempts" => ok with { MaxReconnectAttempts = -1 },
            "outputWidth" => ok with { OutputWidth = -2 },
            "channelCapacity" => ok with { ChannelCapacity = 0 },
            "loop" => ok with { Loop = true },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var ex = Assert.Throws<OptionsException>(() => bad.Validate("streams[1]"));
        Assert.Equal($"streams[1].{field}", ex.Path);
    }

    [Fact]
    public void TheSourceValidatesItsOptions()
    {
        Assert.Throws<OptionsException>(() => new VideoSource(new SourceOptions { Uri = "x.mp4", ChannelCapacity = 0 }));
    }
}
