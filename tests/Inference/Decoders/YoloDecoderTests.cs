using StreamVision.Core;
using StreamVision.Inference.Decoders;

namespace StreamVision.Inference.Tests.Decoders;

/// <summary>
/// The v8 decoders pick each anchor's best class with one pass per class row (vectorised). These tests hold them to the
/// anchor-by-anchor scan they replaced on outputs shaped like a real COCO model's, with ties, NaN and a tail that does
/// not fill a vector.
/// </summary>
public class YoloDecoderTests
{
    [Theory]
    [InlineData(8400, 80)]
    [InlineData(8403, 80)]  // tail after the last whole vector
    [InlineData(5, 3)]      // shorter than one vector
    [InlineData(100, 1)]    // one class: no passes after the first row
    public void V8BestClassPerAnchorMatchesTheAnchorByAnchorScan(int anchors, int classes)
    {
        var data = Output(anchors, 4 + classes, seed: anchors + classes);
        var outputs = new[] { new OutputTensor("output0", [1, 4 + classes, anchors], data) };
        var got = new CandidateBuffer();
        new YoloDecoder(v5: false).Decode(outputs, 0, 0.25f, got);
        var want = new CandidateBuffer();
        AnchorByAnchor(data, 4 + classes, anchors, 0, 0.25f, 0, want, null);
        AssertSame(want, got);
        if (anchors >= 100) Assert.True(got.Count > 0);
    }

    [Fact]
    public void V8DecoderReusedForASecondImageStartsFromThatImage()
    {
        // The running maxima are scratch kept between calls: a second, different output must not see the first's.
        var decoder = new YoloDecoder(v5: false);
        var first = Output(8400, 84, seed: 1);
        var second = Output(8400, 84, seed: 2);
        var got = new CandidateBuffer();
        decoder.Decode([new OutputTensor("o", [1, 84, 8400], first)], 0, 0.25f, got);
        got.Clear();
        decoder.Decode([new OutputTensor("o", [1, 84, 8400], second)], 0, 0.25f, got);
        var want = new CandidateBuffer();
        AnchorByAnchor(second, 84, 8400, 0, 0.25f, 0, want, null);
        AssertSame(want, got);
    }

    [Fact]
    public void V8SecondBatchItemIsDecodedFromItsOwnSlice()
    {
        var data = Output(2 * 300, 84, seed: 3); // [2, 84, 300]: two images' worth of values
        var got = new CandidateBuffer();
        new YoloDecoder(v5: false).Decode([new OutputTensor("o", [2, 84, 300], data)], 1, 0.25f, got);
        var want = new CandidateBuffer();
        AnchorByAnchor(data, 84, 300, 1, 0.25f, 0, want, null);
        AssertSame(want, got);
    }

    [Fact]
    public void SegBestClassAndCoefficientsMatchTheAnchorByAnchorScan()
    {
        const int anchors = 8400, classes = 80, masks = 32, rows = 4 + classes + masks;
        var data = Output(anchors, rows, seed: 4);
        var outputs = new[] { new OutputTensor("output0", [1, rows, anchors], data), new OutputTensor("output1", [1, masks, 160, 160], []) };
        var decoder = YoloSegDecoder.Match(outputs)!;
        var got = new CandidateBuffer { ExtrasPerBox = masks };
        decoder.Decode(outputs, 0, 0.25f, got);
        var want = new CandidateBuffer { ExtrasPerBox = masks };
        AnchorByAnchor(data, 4 + classes, anchors, 0, 0.25f, masks, want, rows);
        AssertSame(want, got);
        for (int i = 0; i < got.Count; i++)
            for (int k = 0; k < masks; k++) Assert.Equal(want.ExtraAt(i, k), got.ExtraAt(i, k));
    }

    /// <summary>
    /// Scores like a trained model's after sigmoid (mostly near 0, some high), with exact ties between classes, NaN
    /// scores, and boxes in 640-pixel input space.
    /// </summary>
    private static float[] Output(int anchors, int rows, int seed)
    {
        var rng = new Random(seed);
        var d = new float[rows * anchors];
        for (int j = 0; j < anchors; j++)
        {
            d[j] = rng.NextSingle() * 640;
            d[anchors + j] = rng.NextSingle() * 640;
            d[2 * anchors + j] = 4 + rng.NextSingle() * 200;
            d[3 * anchors + j] = 4 + rng.NextSingle() * 200;
        }
        for (int r = 4; r < rows; r++)
            for (int j = 0; j < anchors; j++)
            {
                double u = rng.NextDouble();
                d[r * anchors + j] = u < 0.02 ? 0.3f + 0.7f * rng.NextSingle() : u < 0.03 ? 0.5f : u < 0.032 ? float.NaN : rng.NextSingle() * 0.05f;
            }
        return d;
    }

    /// <summary>The scan the decoders used before: for each anchor, classes in order, strictly greater wins.</summary>
    private static void AnchorByAnchor(float[] all, int scoreRows, int n, int batchIndex, float minScore, int masks, CandidateBuffer into, int? rowsPerImage)
    {
        int a = rowsPerImage ?? scoreRows;
        var d = all.AsSpan(batchIndex * a * n, a * n);
        int classes = scoreRows - 4;
        var coeffs = new float[masks];
        for (int j = 0; j < n; j++)
        {
            int best = 0;
            float bestP = d[4 * n + j];
            for (int c = 1; c < classes; c++)
            {
                float p = d[(4 + c) * n + j];
                if (p > bestP) { bestP = p; best = c; }
            }
            // As each decoder had it: v8 keeps scores >= the threshold (NaN never), seg drops scores under it (NaN stays,
            // for the detector's non-finite check to count).
            if (masks == 0 ? !(bestP >= minScore) : bestP < minScore) continue;
            var box = Box.FromCenter(d[j], d[n + j], d[2 * n + j], d[3 * n + j]);
            if (masks == 0)
            {
                into.Add(box, bestP, best);
                continue;
            }
            for (int k = 0; k < masks; k++) coeffs[k] = d[(4 + classes + k) * n + j];
            into.Add(box, bestP, best, default, coeffs);
        }
    }

    private static void AssertSame(CandidateBuffer want, CandidateBuffer got)
    {
        Assert.Equal(want.Count, got.Count);
        for (int i = 0; i < want.Count; i++)
        {
            Assert.Equal(want.BoxAt(i), got.BoxAt(i));
            Assert.Equal(want.ScoreAt(i), got.ScoreAt(i));
            Assert.Equal(want.ClassAt(i), got.ClassAt(i));
        }
    }
}
