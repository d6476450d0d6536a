namespace StreamVision.Inference.Tests;

public partial class OnnxDetectorTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    public void YoloV8BoxesMapBackToFramePixelsThroughTheLetterbox(int k)
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8);
        using var frame = TestModels.ForS(k);
        Expect.Equal(Expect.Yolo(k), d.Detect([frame])[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void YoloV5ScoresAreObjectnessTimesClassAndMapBackThroughTheLetterbox(int k)
    {
        // Row 4 has objectness 0.9 but class probability 0.5: 0.45 stays under the threshold.
        using var d = OnnxDetector.Load(TestModels.YoloV5);
        using var frame = TestModels.ForS(k);
        Expect.Equal(Expect.Yolo(k), d.Detect([frame])[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    public void SsdBoxesAndInt64LabelsMapBackThroughTheStretch(int k)
    {
        using var d = OnnxDetector.Load(TestModels.Ssd);
        using var frame = TestModels.ForS(k);
        Expect.Equal(Expect.Ssd(k), d.Detect([frame])[0]);
    }

    [Fact]
    public void PortraitFrameIsPaddedLeftAndRight()
    {
        // 180x320 into 64x64: scale 0.2, 14 columns of padding on the left: frame x = 5 (x - 14), frame y = 5 y.
        using var d = OnnxDetector.Load(TestModels.YoloV8);
        using var frame = TestModels.Uniform(180, 320, 255);
        // Row 0 at s = 1: input x 32..40, y 29..35; row 3 (car 0.85): input x 47..53 (clipped to the frame's right edge), y 32..36; row 2: input y 30..36.
        Expect.Equal([new(90, 145, 130, 175, 0.9f, 0), new(165, 160, 180, 180, 0.85f, 1), new(90, 150, 130, 180, 0.7f, 1)], d.Detect([frame])[0]);
    }

    [Theory]
    [InlineData(new[] { 1 })]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 7 })]
    public void ClassAllowListKeepsOnlyThoseClasses(int[] allowed)
    {
        var allow = new HashSet<int>(allowed);
        using var d = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Detection = new DetectorOptions { ClassAllowList = allow } });
        using var frame = TestModels.ForS(5);
        var r = d.Detect([frame])[0];
        Expect.Equal(Expect.Yolo(5, allow: allow), r);
        Assert.All(r.ClassIds.ToArray(), c => Assert.Contains(c, allow));
    }

    [Fact]
    public void ClassAwareNmsKeepsOverlappingBoxesOfOtherClassesAgnosticDoesNot()
    {
        using var aware = OnnxDetector.Load(TestModels.YoloV8);
        using var agnostic = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Detection = new DetectorOptions { ClassAgnosticNms = true } });
        using var frame = TestModels.ForS(5);
        var a = aware.Detect([frame])[0];
        var g = agnostic.Detect([frame])[0];
        Expect.Equal(Expect.Yolo(5), a);
        Expect.Equal(Expect.Yolo(5, agnostic: true), g);
        Assert.Equal(3, a.Count);
        Assert.Equal(2, g.Count); // the car overlapping the person (IoU 0.71) is gone
    }

    [Fact]
    public void NmsIouThresholdDecidesWhichNeighboursSurvive()
    {
        // Rows 0 and 1 (both person) overlap with IoU 0.78: a threshold of 0.8 keeps both.
        using var d = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Detection = new DetectorOptions { NmsIouThreshold = 0.8f } });
        using var frame = TestModels.ForS(0);
        var r = d.Detect([frame])[0];
        Assert.Equal([0.9f, 0.8f, 0.7f], r.Scores.ToArray());
        Assert.Equal([0, 0, 1], r.ClassIds.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void MaxDetectionsKeepsTheBestAfterNms(int max)
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Detection = new DetectorOptions { MaxDetections = max } });
        using var frame = TestModels.ForS(5);
        Expect.Equal(Expect.Yolo(5, max: max), d.Detect([frame])[0]);
    }

    [Fact]
    public void ConfidenceThresholdDropsWeakerRows()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Detection = new DetectorOptions { ConfidenceThreshold = 0.1f } });
        using var frame = TestModels.ForS(0);
        // Now row 3 (car 0.35) and row 4 (person 0.2; its box is clipped to the frame's bottom edge) pass too.
        var r = d.Detect([frame])[0];
        Assert.Equal([0.9f, 0.7f, 0.35f, 0.2f], r.Scores.ToArray());
        Expect.Equal([new(60, 75, 100, 105, 0.9f, 0), new(60, 80, 100, 110, 0.7f, 1), new(235, 40, 265, 60, 0.35f, 1), new(40, 170, 60, 180, 0.2f, 0)], r);
    }
}

public partial class OnnxDetectorTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void NonFiniteRowsAreDroppedAndCountedNeverReturned(int k)
    {
        // Rows 5..7 carry an infinite score, an infinite width and a NaN centre: none may reach NMS or the caller.
        using var d = OnnxDetector.Load(TestModels.YoloV8NonFinite);
        using var frame = TestModels.ForS(k);
        var r = d.Detect([frame])[0];
        Expect.Equal(Expect.Yolo(k), r);
        Assert.Equal(3, d.NonFiniteDropped);
        for (int i = 0; i < r.Count; i++) Assert.True(float.IsFinite(r.Scores[i]) && float.IsFinite(r.Boxes[i].X1) && float.IsFinite(r.Boxes[i].X2));
    }
}
