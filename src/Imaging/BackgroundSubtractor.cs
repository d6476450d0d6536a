using OpenCvSharp;
using StreamVision.Core;
using StreamVision.Imaging.Interop;

namespace StreamVision.Imaging;

/// <summary>How moving blobs are found. Every field documents its unit and trade-off.</summary>
public sealed record BackgroundSubtractorOptions
{
    /// <summary>Frames the background model remembers. Longer adapts slower to lighting and to objects that stop. Default 300.</summary>
    [OptionRange(1, 100000, Unit = "frames")]
    public int History { get; init; } = 300;
    /// <summary>How far (squared Mahalanobis distance) a pixel must differ to count as moving. Lower finds fainter motion and more noise. Default 16.</summary>
    [OptionRange(0.01, 10000)]
    public double VarThreshold { get; init; } = 16;
    /// <summary>Mark shadows and leave them out of blobs. Default true.</summary>
    public bool DetectShadows { get; init; } = true;
    /// <summary>Smallest blob, in full-frame pixels, reported as an object. Default 400 (20x20).</summary>
    [OptionRange(0, int.MaxValue, Unit = "pixels")]
    public int MinArea { get; init; } = 400;
    /// <summary>
    /// Multiplies every size given in pixels — <see cref="MinArea"/> (by its square), <see cref="MorphKernel"/>,
    /// <see cref="VerticalClose"/>, <see cref="MinHeight"/> — and the analysis <see cref="Downscale"/> (rounded, at least 1),
    /// so that settings tuned on one scene carry to another whose objects are larger or smaller in the picture (a
    /// higher-resolution camera, a camera farther away): the ratio of the objects' heights in the two. Default 1 (as given).
    /// </summary>
    [OptionRange(0.05, 20)]
    public double Scale { get; init; } = 1;
    /// <summary>Morphology kernel (pixels, odd; 0 = none) that removes specks and fills holes. Default 5.</summary>
    [OptionRange(0, 101, Unit = "pixels")]
    public int MorphKernel { get; init; } = 5;
    /// <summary>Analyse at 1/N of the size: faster, coarser; 1 = full size. Default 2.</summary>
    [OptionRange(1, 16)]
    public int Downscale { get; init; } = 2;
    /// <summary>Background learning rate 0..1 per frame (0 = the background never changes); negative lets OpenCV choose from <see cref="History"/>. Default -1.</summary>
    [OptionRange(-1, 1)]
    public double LearningRate { get; init; } = -1;
    /// <summary>Most blobs per frame (largest first). Default 64.</summary>
    [OptionRange(1, 4096)]
    public int MaxObjects { get; init; } = 64;
    /// <summary>
    /// MOG2's shadow threshold (tau, 0..1): a pixel darker than the background by a factor between this and 1, with the
    /// same colour, is a shadow and left out of blobs. Lower calls more of a darker region shadow (cuts cast shadows off
    /// people; also dark clothes on a light floor). OpenCV's default 0.5. Needs <see cref="DetectShadows"/>.
    /// </summary>
    [OptionRange(0, 1)]
    public double ShadowThreshold { get; init; } = 0.5;
    /// <summary>
    /// Apply <see cref="MorphKernel"/>'s closing before its opening: a sparse mask (outlines and speckle inside people whose
    /// colours are near the background's) is filled into solid bodies first instead of being eroded away. Default false
    /// (opening first: removes specks first, for clean masks).
    /// </summary>
    public bool CloseFirst { get; init; }
    /// <summary>
    /// Height of a vertical closing (full-frame pixels; 0 = none) applied after <see cref="MorphKernel"/>: joins the parts
    /// of one upright body (head, torso, legs in colours near the background's) without joining people side by side.
    /// Default 0.
    /// </summary>
    [OptionRange(0, 401, Unit = "pixels")]
    public int VerticalClose { get; init; }
    /// <summary>
    /// Expected width of one object over its height (people about 0.4; 0 = never split). A blob wider than
    /// <see cref="SplitFactor"/> times that is taken to hold several objects side by side and cut into round(width /
    /// (height x this)) parts at the emptiest columns of its mask (column projection), each part boxed tightly. Default 0.
    /// </summary>
    [OptionRange(0, 10)]
    public double ObjectAspect { get; init; }
    /// <summary>How much wider than one object (<see cref="ObjectAspect"/>) a blob must be before it is split. Default 1.5.</summary>
    [OptionRange(1, 10)]
    public double SplitFactor { get; init; } = 1.5;
    /// <summary>Smallest blob height, full-frame pixels (after splitting): drops low specks and slivers of cast shadow. Default 0.</summary>
    [OptionRange(0, int.MaxValue, Unit = "pixels")]
    public int MinHeight { get; init; }
    /// <summary>Widest blob reported, as width over height (after splitting; 0 = no limit): upright people are narrower than tall. Default 0.</summary>
    [OptionRange(0, 100)]
    public double MaxWidthToHeight { get; init; }
    /// <summary>Narrowest blob reported, as width over height (after splitting; 0 = no limit). Default 0.</summary>
    [OptionRange(0, 100)]
    public double MinWidthToHeight { get; init; }
    /// <summary>
    /// Frames in a row a blob must be seen (overlapping itself, IoU >= 0.3, from frame to frame) before it is reported;
    /// 1 = at once. Higher drops flicker (leaves, reflections, noise) and reports each new object that much later. Default 1.
    /// </summary>
    [OptionRange(1, 1000, Unit = "frames")]
    public int MinLifetime { get; init; } = 1;
    /// <summary>Frames at the start that only teach the background model, with nothing reported. Default 0.</summary>
    [OptionRange(0, 100000, Unit = "frames")]
    public int WarmupFrames { get; init; }
    /// <summary>Grow every reported box by this fraction of its width and height (split equally on both sides; 0 = none): a silhouette's box is tighter than a person's annotated box. Default 0.</summary>
    [OptionRange(0, 2)]
    public double BoxPadding { get; init; }
    /// <summary>
    /// Ghost suppression (0 = off): the least fraction of a blob's box whose grey level changed (by more than 12) over the
    /// last <see cref="MotionGap"/> frames. A blob without that much change is a ghost — background the model learned while
    /// someone stood on it, uncovered when they left — or a stopped object, and is not reported. Higher drops more ghosts
    /// and more slow walkers. Default 0.
    /// </summary>
    [OptionRange(0, 1)]
    public double MinMotion { get; init; }
    /// <summary>Frames between the two pictures compared for <see cref="MinMotion"/>. Longer sees slower motion. Default 5.</summary>
    [OptionRange(1, 100, Unit = "frames")]
    public int MotionGap { get; init; } = 5;
    /// <summary>
    /// Split merged blobs by memory: the subtractor remembers the separate objects it reported (box and velocity) and a
    /// blob that covers two or more of them, moved on by their velocities, is reported as those objects (each its
    /// predicted box, kept within the blob) instead of one box around the group. An object is carried this way for at most
    /// <see cref="MemoryFrames"/> frames without being seen on its own. Helps where people walk together or pass each
    /// other; a remembered object that left while hidden in a group lingers for up to that many frames. Default false.
    /// </summary>
    public bool MemorySplit { get; init; }
    /// <summary>Frames a remembered object is carried inside groups (and kept while unseen) before it is forgotten (<see cref="MemorySplit"/>). Default 15.</summary>
    [OptionRange(1, 1000, Unit = "frames")]
    public int MemoryFrames { get; init; } = 15;
    /// <summary>
    /// Score of a box that <see cref="MemorySplit"/> predicted instead of seeing on its own (0..1; every other blob scores
    /// 1). Below the tracker's <c>new_track_score</c> such a box can continue a track but never start one; below its
    /// <c>high_score</c> it is matched only in the tracker's second, low-score stage. Default 0.6.
    /// </summary>
    [OptionRange(0, 1)]
    public double PredictedScore { get; init; } = 0.6;
    /// <summary>
    /// Scene size prior: fit, online, an object's height as a straight line of its top edge's row (people farther away
    /// are higher in the picture and shorter) from upright, unsplit blobs clear of the frame's edges, and once
    /// <see cref="SizePriorSamples"/> such blobs are in, cut every box to the height the line gives (what hangs below is
    /// cast shadow or reflection) and to at most <see cref="SizePriorWidth"/> times it in width, about its centre. Assumes one kind of upright object on a flat floor seen by a fixed camera. Default false.
    /// </summary>
    public bool SizePrior { get; init; }
    /// <summary>
    /// Seed the background with the per-pixel median of the first this many frames (0 = off): once they are in, the model
    /// restarts from that median picture, so people who were in the first frames but walked on are not learned as
    /// background (and leave no ghosts). Before then the model learns as usual. Someone who stands still through more than
    /// half of these frames stays background. Default 0.
    /// </summary>
    [OptionRange(0, 500, Unit = "frames")]
    public int SeedFrames { get; init; }
    /// <summary>
    /// Frame differencing added to the background model (grey levels, 0 = off): a pixel whose grey level differs by more
    /// than this from <see cref="MotionGap"/> frames back counts as foreground too, before the morphology. Fills the parts
    /// of moving people whose colours the background model takes for background; adds the place a person just left
    /// (a trail of <see cref="MotionGap"/> frames). Default 0.
    /// </summary>
    [OptionRange(0, 255)]
    public int FrameDifference { get; init; }
    /// <summary>Widest box <see cref="SizePrior"/> lets through, as a fraction of the fitted height (wider boxes are narrowed about their centre; 0 = no limit). Default 0.4 (people about 0.4 of their height wide).</summary>
    [OptionRange(0, 10)]
    public double SizePriorWidth { get; init; } = 0.4;
    /// <summary>Blobs the <see cref="SizePrior"/> line is fitted from before it is used (the last 256 are kept). Default 20.</summary>
    [OptionRange(3, 256)]
    public int SizePriorSamples { get; init; } = 20;
    /// <summary>
    /// Least width of a box that touches the frame's left or right side, as a fraction of a whole object's width there
    /// (<see cref="ObjectAspect"/>, or 0.4 when that is 0, times the <see cref="SizePrior"/> height; 0 = keep all). Someone mostly
    /// outside the picture, leaving or entering, is not reported (ground truths stop counting such people; a tracker
    /// would report a sliver); they are reported later on entering. Needs <see cref="SizePrior"/>. Default 0.
    /// </summary>
    [OptionRange(0, 1)]
    public double EdgeWidth { get; init; }
    /// <summary>
    /// Score each seen blob by how solid it is (0 = off: every blob scores 1): the fraction of its box that is foreground,
    /// over this fraction, capped at 1. A person's silhouette fills about half its box; a box over scattered outline
    /// pixels or noise fills less and scores lower, so the tracker (its <c>high_score</c>, <c>new_track_score</c>,
    /// <c>low_score</c>) lets it continue a track but not start one. Higher asks more of a blob before it may start a
    /// track. Default 0.
    /// </summary>
    [OptionRange(0, 1)]
    public double FillScore { get; init; }
    /// <summary>
    /// Split blobs at their heads (the W4 method): the top edge of a blob's mask, column by column, has a peak at each
    /// head; a blob with two or more peaks at least <see cref="HeadSeparation"/> of a person's width apart, each standing
    /// <see cref="HeadProminence"/> of a person's height above the edge between them, is reported as one box per head
    /// (<see cref="ObjectAspect"/> of a person's height wide, or 0.4 when that is 0, centred on the head; as tall as the <see cref="SizePrior"/>
    /// line says, else down to the blob's bottom). With <see cref="SizePrior"/> on, nothing is split by heads until the
    /// line is fitted; a blob at most one person wide is never split. Separates people who overlap in depth (one behind
    /// the other), which a blob's width alone does not show; a raised arm or a tall bag can pass for a head
    /// (<see cref="HeadBand"/>, <see cref="HeadFill"/> guard against that). Blobs with fewer heads are split by width as
    /// before. With <see cref="FrameDifference"/> the heads are looked for on the background model's mask alone (the
    /// differencing's strips, where people just were, would fill the dips between heads). Default false.
    /// </summary>
    public bool HeadSplit { get; init; }
    /// <summary>Least distance between two heads (<see cref="HeadSplit"/>), as a fraction of a person's width (<see cref="ObjectAspect"/>, or 0.4, times its height). Lower separates people closer together and splits more single people at their shoulders. Default 0.7.</summary>
    [OptionRange(0.05, 5)]
    public double HeadSeparation { get; init; } = 0.7;
    /// <summary>How far the top edge must dip between two heads (<see cref="HeadSplit"/>), as a fraction of a person's height. Lower finds heads in tighter groups and takes more shoulders and bags for heads. Default 0.05.</summary>
    [OptionRange(0, 1)]
    public double HeadProminence { get; init; } = 0.05;
    /// <summary>How far below the highest head of a blob another head may be (<see cref="HeadSplit"/>), as a fraction of a person's height: the heads of people side by side or one behind the other are at about one height; a hand or a bag lower down is not a head. Lower ignores more shorter or nearer people; higher takes more hands for heads. Default 0.4.</summary>
    [OptionRange(0, 1)]
    public double HeadBand { get; init; } = 0.4;
    /// <summary>Least fraction of a head's box that must be foreground (<see cref="HeadSplit"/>; 0 = any): a box over a few stray outline pixels is no person. A blob left with fewer than two heads is not split by heads. Higher keeps only solidly seen people. Default 0.45.</summary>
    [OptionRange(0, 1)]
    public double HeadFill { get; init; } = 0.45;

    public void Validate(string path = "detector.motion")
    {
        if (History is < 1 or > 100000) throw new OptionsException($"{path}.history", $"must be 1..100000, got {History}");
        if (VarThreshold is <= 0 or > 10000) throw new OptionsException($"{path}.var_threshold", $"must be in (0, 10000], got {VarThreshold}");
        if (MinArea < 0) throw new OptionsException($"{path}.min_area", $"must be >= 0, got {MinArea}");
        if (!(Scale >= 0.05 && Scale <= 20)) throw new OptionsException($"{path}.scale", $"must be 0.05..20, got {Scale}");
        if (MorphKernel is < 0 or > 101) throw new OptionsException($"{path}.morph_kernel", $"must be 0..101, got {MorphKernel}");
        if (Downscale is < 1 or > 16) throw new OptionsException($"{path}.downscale", $"must be 1..16, got {Downscale}");
        if (MaxObjects is < 1 or > 4096) throw new OptionsException($"{path}.max_objects", $"must be 1..4096, got {MaxObjects}");
        if (!(ShadowThreshold >= 0 && ShadowThreshold <= 1)) throw new OptionsException($"{path}.shadow_threshold", $"must be 0..1, got {ShadowThreshold}");
        if (VerticalClose is < 0 or > 401) throw new OptionsException($"{path}.vertical_close", $"must be 0..401 pixels, got {VerticalClose}");
        if (!(ObjectAspect >= 0 && ObjectAspect <= 10)) throw new OptionsException($"{path}.object_aspect", $"must be 0..10, got {ObjectAspect}");
        if (!(SplitFactor >= 1 && SplitFactor <= 10)) throw new OptionsException($"{path}.split_factor", $"must be 1..10, got {SplitFactor}");
        if (MinHeight < 0) throw new OptionsException($"{path}.min_height", $"must be >= 0, got {MinHeight}");
        if (!(MaxWidthToHeight >= 0 && MaxWidthToHeight <= 100)) throw new OptionsException($"{path}.max_width_to_height", $"must be 0..100, got {MaxWidthToHeight}");
        if (!(MinWidthToHeight >= 0 && MinWidthToHeight <= 100)) throw new OptionsException($"{path}.min_width_to_height", $"must be 0..100, got {MinWidthToHeight}");
        if (MaxWidthToHeight > 0 && MinWidthToHeight > MaxWidthToHeight)
            throw new OptionsException($"{path}.min_width_to_height", $"must not exceed max_width_to_height ({MaxWidthToHeight}), got {MinWidthToHeight}");
        if (MinLifetime is < 1 or > 1000) throw new OptionsException($"{path}.min_lifetime", $"must be 1..1000 frames, got {MinLifetime}");
        if (WarmupFrames is < 0 or > 100000) throw new OptionsException($"{path}.warmup_frames", $"must be 0..100000 frames, got {WarmupFrames}");
        if (!(BoxPadding >= 0 && BoxPadding <= 2)) throw new OptionsException($"{path}.box_padding", $"must be 0..2, got {BoxPadding}");
        if (!(MinMotion >= 0 && MinMotion <= 1)) throw new OptionsException($"{path}.min_motion", $"must be 0..1, got {MinMotion}");
        if (MotionGap is < 1 or > 100) throw new OptionsException($"{path}.motion_gap", $"must be 1..100 frames, got {MotionGap}");
        if (MemoryFrames is < 1 or > 1000) throw new OptionsException($"{path}.memory_frames", $"must be 1..1000 frames, got {MemoryFrames}");
        if (!(PredictedScore >= 0 && PredictedScore <= 1)) throw new OptionsException($"{path}.predicted_score", $"must be 0..1, got {PredictedScore}");
        if (SeedFrames is < 0 or > 500) throw new OptionsException($"{path}.seed_frames", $"must be 0..500 frames, got {SeedFrames}");
        if (!(SizePriorWidth >= 0 && SizePriorWidth <= 10)) throw new OptionsException($"{path}.size_prior_width", $"must be 0..10, got {SizePriorWidth}");
        if (FrameDifference is < 0 or > 255) throw new OptionsException($"{path}.frame_difference", $"must be 0..255 grey levels, got {FrameDifference}");
        if (!(HeadSeparation >= 0.05 && HeadSeparation <= 5)) throw new OptionsException($"{path}.head_separation", $"must be 0.05..5, got {HeadSeparation}");
        if (!(HeadProminence >= 0 && HeadProminence <= 1)) throw new OptionsException($"{path}.head_prominence", $"must be 0..1, got {HeadProminence}");
        if (!(EdgeWidth >= 0 && EdgeWidth <= 1)) throw new OptionsException($"{path}.edge_width", $"must be 0..1, got {EdgeWidth}");
        if (!(FillScore >= 0 && FillScore <= 1)) throw new OptionsException($"{path}.fill_score", $"must be 0..1, got {FillScore}");
        if (!(HeadBand >= 0 && HeadBand <= 1)) throw new OptionsException($"{path}.head_band", $"must be 0..1, got {HeadBand}");
        if (!(HeadFill >= 0 && HeadFill <= 1)) throw new OptionsException($"{path}.head_fill", $"must be 0..1, got {HeadFill}");
        if (SizePriorSamples is < 3 or > 256) throw new OptionsException($"{path}.size_prior_samples", $"must be 3..256, got {SizePriorSamples}");
    }
}

/// <summary>
/// OpenCV's MOG2 background model for one fixed camera: feed frames in order, get the boxes of moving blobs. Reads each
/// frame in place (a <c>Mat</c> header over its pixels); owns the model, its mask and downscale buffers and frees them on
/// <see cref="Dispose"/>. Not thread-safe (one per stream).
/// </summary>
/// <remarks>
/// After the mask (shadows out, opening and closing, optional vertical closing): each blob wider than
/// <see cref="BackgroundSubtractorOptions.SplitFactor"/> objects is cut at the emptiest columns of its mask, then size and
/// shape priors drop what cannot be an object, then a blob must have lived <see cref="BackgroundSubtractorOptions.MinLifetime"/>
/// frames. Lifetimes carry from frame to frame by overlap with the previous frame's blobs (all of them, reported or not).
/// Optional steps around these: frame differencing OR-ed into the mask before the morphology
/// (<see cref="BackgroundSubtractorOptions.FrameDifference"/>), the scene size prior cutting boxes before the lifetime
/// check (<see cref="BackgroundSubtractorOptions.SizePrior"/>), the memory split after it
/// (<see cref="BackgroundSubtractorOptions.MemorySplit"/>), and a restart from the median of the first frames
/// (<see cref="BackgroundSubtractorOptions.SeedFrames"/>).
/// </remarks>
public sealed class BackgroundSubtractor : IDisposable
{
    private const double LifetimeIoU = 0.3;
    private readonly BackgroundSubtractorOptions _options;
    /// <summary>A person's width over height for <see cref="BackgroundSubtractorOptions.HeadSplit"/> and <see cref="BackgroundSubtractorOptions.EdgeWidth"/>: <see cref="BackgroundSubtractorOptions.ObjectAspect"/>, or 0.4 when that is 0.</summary>
    private readonly double _aspect;
    private BackgroundSubtractorMOG2 _model;
    private readonly List<byte[]> _seed = new();
    private readonly Mat _small = new();
    private readonly Mat _mask = new();
    private readonly Mat? _kernel;
    private readonly Mat? _verticalKernel;
    private byte[] _maskBytes = [];
    private readonly List<(Rect Box, int Age)> _previous = new();
    private readonly List<(Rect Box, int Age)> _current = new();
    private long _frames;
    private readonly Mat[] _greys = [];
    private readonly Mat _scratch = new();
    private readonly Mat _change = new();
    private readonly Mat _diff = new();
    private readonly Mat _moved = new();
    /// <summary>With <see cref="BackgroundSubtractorOptions.HeadSplit"/> and <see cref="BackgroundSubtractorOptions.FrameDifference"/>: the cleaned mask without the differencing, where heads are found (<see cref="_headBytes"/> row-major).</summary>
    private readonly Mat _headMask = new();
    private byte[] _headBytes = [];
    private bool _headFromMog;
    private bool _hasChange;
    private bool _disposed;
    /// <summary><see cref="BackgroundSubtractorOptions.MinArea"/> and <see cref="BackgroundSubtractorOptions.MinHeight"/> after <see cref="BackgroundSubtractorOptions.Scale"/>.</summary>
    private readonly long _minArea;
    private readonly int _minHeight;
    /// <summary><see cref="BackgroundSubtractorOptions.Downscale"/> after <see cref="BackgroundSubtractorOptions.Scale"/>: objects are analysed at about the same size in pixels.</summary>
    private readonly int _downscale;

    public BackgroundSubtractor(BackgroundSubtractorOptions? options = null)
    {
        _options = options ?? new BackgroundSubtractorOptions();
        _options.Validate();
        _aspect = _options.ObjectAspect > 0 ? _options.ObjectAspect : 0.4;
        _minArea = (long)Math.Round(_options.MinArea * _options.Scale * _options.Scale);
        _minHeight = Scaled(_options.MinHeight);
        _downscale = Math.Clamp((int)Math.Round(_options.Downscale * _options.Scale, MidpointRounding.AwayFromZero), 1, 16);
        _model = BackgroundSubtractorMOG2.Create(_options.History, _options.VarThreshold, _options.DetectShadows);
        _model.ShadowThreshold = _options.ShadowThreshold;
        int morph = Scaled(_options.MorphKernel), vertical = Scaled(_options.VerticalClose);
        if (morph > 1)
        {
            // The kernel shrinks with the analysis size so that it covers the same part of the picture.
            int k = Math.Max(1, (morph / _downscale) | 1);
            _kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(k, k));
        }
        if (_options.MinMotion > 0 || _options.FrameDifference > 0)
        {
            _greys = new Mat[_options.MotionGap + 1];
            for (int i = 0; i < _greys.Length; i++) _greys[i] = new Mat();
        }
        if (vertical > 1)
        {
            int k = Math.Max(1, (vertical / _downscale) | 1);
            _verticalKernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(1, k));
        }
        NativeHandles.Opened(NativeHandles.BackgroundModel);
    }

    /// <summary>A size in full-frame pixels times <see cref="BackgroundSubtractorOptions.Scale"/>.</summary>
    private int Scaled(int pixels) => (int)Math.Round(pixels * _options.Scale, MidpointRounding.AwayFromZero);

    /// <summary>Scores of the boxes the last <see cref="Apply"/> returned, in their order: 1 for a blob seen, <see cref="BackgroundSubtractorOptions.PredictedScore"/> for a box <see cref="BackgroundSubtractorOptions.MemorySplit"/> predicted.</summary>
    public float[] LastScores { get; private set; } = [];

    /// <summary>Updates the model with <paramref name="frame"/> and returns the moving blobs' boxes in full-frame pixels (largest first).</summary>
    public Box[] Apply(Frame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int w = frame.Width, h = frame.Height, div = _downscale;
        try
        {
            // Input proxies are disposed here; OpenCvSharp disposes an output proxy itself once its call returns (so
            // each output is converted anew, never reused).
            if (div > 1)
            {
                BgrMat.Downscale(frame.Data, w, h, frame.Stride, _small, new Size(Math.Max(1, w / div), Math.Max(1, h / div)));
                using var smallIn = InputArray.Create(_small);
                _model.Apply(smallIn, _mask, _options.LearningRate);
            }
            else
            {
                BgrMat.ApplyBackground(_model, frame.Data, w, h, frame.Stride, _mask, _options.LearningRate);
            }
            _frames++;
            if (_options.SeedFrames > 0 && _frames <= _options.SeedFrames) Seed(frame);
            if (_greys.Length > 0) Change(frame, new Size(_mask.Cols, _mask.Rows));
            if (_frames <= _options.WarmupFrames)
            {
                LastScores = [];
                return [];
            }
            using var maskIn = InputArray.Create(_mask);
            // Shadows are marked 127: keep only certain foreground (255).
            Cv2.Threshold(maskIn, _mask, 200, 255, ThresholdTypes.Binary);
            // Heads are looked for on the background model's own mask: differencing fills the dips between heads with the
            // strips people just left.
            bool heads = _options.HeadSplit && _options.FrameDifference > 0 && _hasChange;
            if (heads) _mask.CopyTo(_headMask);
            if (_options.FrameDifference > 0 && _hasChange)
            {
                using var diffIn = InputArray.Create(_diff);
                Cv2.Threshold(diffIn, _moved, _options.FrameDifference, 255, ThresholdTypes.Binary);
                using var moved = InputArray.Create(_moved);
                Cv2.BitwiseOr(maskIn, moved, _mask);
            }
            Clean(_mask);
            if (heads) Clean(_headMask);
            var contours = Cv2.FindContoursAsArray(maskIn, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
            var blobs = new List<Rect>(contours.Length);
            bool split = _options.ObjectAspect > 0;
            if (split || _options.HeadSplit || _options.MemorySplit || _options.FillScore > 0) CopyMask();
            _headFromMog = heads;
            if (heads) CopyBytes(_headMask, ref _headBytes);
            foreach (var c in contours)
            {
                var r = Cv2.BoundingRect(c);
                if ((long)r.Width * r.Height * div * div < _minArea) continue;
                if (_options.HeadSplit && SplitAtHeads(r, blobs)) continue;
                if (split) Split(r, blobs);
                else blobs.Add(r);
            }
            if (_hasChange && _options.MinMotion > 0) blobs.RemoveAll(r => r.Width <= 0 || r.Height <= 0 || Changed(r) < _options.MinMotion);
            var rects = new List<Rect>(blobs.Count);
            var frameRect = new Rect(0, 0, w, h);
            foreach (var r in blobs)
            {
                var full = Rect.Intersect(new Rect(r.X * div, r.Y * div, r.Width * div, r.Height * div), frameRect);
                if (full.Width <= 0 || full.Height <= 0 || !Plausible(full)) continue;
                rects.Add(full);
            }
            // The sides as the analysis sees them: at a downscale the mask ends up to div - 1 pixels short of the frame's
            // right and bottom edges, and a blob touching them must still count as at the edge.
            if (_options.SizePrior) rects = FitSizes(rects, Math.Min(w, Math.Max(1, w / div) * div), Math.Min(h, Math.Max(1, h / div) * div));
            rects = Survivors(rects);
            var found = _options.MemorySplit ? Remember(rects, frameRect) : rects.ConvertAll(static r => (Box: r, Predicted: false));
            found.Sort(static (a, b) => ((long)b.Box.Width * b.Box.Height).CompareTo((long)a.Box.Width * a.Box.Height));
            int n = Math.Min(found.Count, _options.MaxObjects);
            var result = new Box[n];
            var scores = new float[n];
            double pad = _options.BoxPadding / 2;
            for (int i = 0; i < n; i++)
            {
                var r = found[i].Box;
                float px = (float)(r.Width * pad), py = (float)(r.Height * pad);
                result[i] = new Box(Math.Max(0, r.X - px), Math.Max(0, r.Y - py), Math.Min(w, r.X + r.Width + px), Math.Min(h, r.Y + r.Height + py));
                scores[i] = found[i].Predicted ? (float)_options.PredictedScore
                    : _options.FillScore > 0 ? (float)Math.Min(1, FullFrameFill(found[i].Box) / _options.FillScore) : 1f;
            }
            LastScores = scores;
            return result;
        }
        catch (OpenCVException ex)
        {
            throw new ImagingException("background subtraction", ex.Message, ex);
        }
    }

    /// <summary>The morphology on a binary mask, in place: opening and closing (<see cref="BackgroundSubtractorOptions.CloseFirst"/> says which first), then the vertical closing.</summary>
    private void Clean(Mat mask)
    {
        using var maskIn = InputArray.Create(mask);
        if (_kernel is not null)
        {
            using var kernel = InputArray.Create(_kernel);
            Cv2.MorphologyEx(maskIn, mask, _options.CloseFirst ? MorphTypes.Close : MorphTypes.Open, kernel);
            Cv2.MorphologyEx(maskIn, mask, _options.CloseFirst ? MorphTypes.Open : MorphTypes.Close, kernel);
        }
        if (_verticalKernel is not null)
        {
            using var kernel = InputArray.Create(_verticalKernel);
            Cv2.MorphologyEx(maskIn, mask, MorphTypes.Close, kernel);
        }
    }

    /// <summary>
    /// <see cref="BackgroundSubtractorOptions.SeedFrames"/>: keeps this frame at the analysis size; at the last seed frame
    /// restarts the model from the per-pixel median of them (fed in as many times as there were frames).
    /// </summary>
    private void Seed(Frame frame)
    {
        int div = _downscale, sw = Math.Max(1, frame.Width / div), sh = Math.Max(1, frame.Height / div);
        using var picture = new Mat();
        BgrMat.Downscale(frame.Data, frame.Width, frame.Height, frame.Stride, picture, new Size(sw, sh));
        var bytes = new byte[sw * sh * 3];
        for (int y = 0; y < sh; y++) System.Runtime.InteropServices.Marshal.Copy(picture.Ptr(y), bytes, y * sw * 3, sw * 3);
        _seed.Add(bytes);
        if (_seed.Count < _options.SeedFrames) return;
        int n = _seed.Count;
        var median = new byte[bytes.Length];
        Span<byte> values = stackalloc byte[n]; // n <= 500 (validated)
        for (int i = 0; i < median.Length; i++)
        {
            for (int k = 0; k < n; k++) values[k] = _seed[k][i];
            values.Sort();
            median[i] = values[n / 2];
        }
        _seed.Clear();
        using var background = new Mat(sh, sw, MatType.CV_8UC3);
        for (int y = 0; y < sh; y++) System.Runtime.InteropServices.Marshal.Copy(median, y * sw * 3, background.Ptr(y), sw * 3);
        var model = BackgroundSubtractorMOG2.Create(_options.History, _options.VarThreshold, _options.DetectShadows);
        model.ShadowThreshold = _options.ShadowThreshold;
        using var scratch = new Mat();
        for (int k = 0; k < n; k++)
        {
            using var input = InputArray.Create(background);
            model.Apply(input, scratch, 1.0 / (k + 1));
        }
        _model.Dispose();
        _model = model;
    }

    /// <summary>
    /// Keeps this frame's grey picture (analysis size) in the ring and, once it holds <see cref="BackgroundSubtractorOptions.MotionGap"/>
    /// earlier ones, marks in <see cref="_change"/> where it differs from the one that many frames back.
    /// </summary>
    private void Change(Frame frame, Size size)
    {
        int n = _greys.Length;
        var now = _greys[(int)(_frames % n)];
        BgrMat.ToGray(frame.Data, frame.Width, frame.Height, frame.Stride, _scratch, now, size);
        _hasChange = _frames >= n;
        if (!_hasChange) return;
        var then = _greys[(int)((_frames + 1) % n)]; // the oldest: MotionGap frames back
        using var a = InputArray.Create(now);
        using var b = InputArray.Create(then);
        Cv2.Absdiff(a, b, _diff);
        using var diffIn = InputArray.Create(_diff);
        Cv2.Threshold(diffIn, _change, MotionChange, 255, ThresholdTypes.Binary);
    }

    /// <summary>Grey-level difference that counts as change for <see cref="BackgroundSubtractorOptions.MinMotion"/>.</summary>
    private const double MotionChange = 12;

    /// <summary>Fraction of blob <paramref name="r"/> (analysis pixels) that changed over the motion gap.</summary>
    private double Changed(Rect r)
    {
        using var part = new Mat(_change, r);
        return Cv2.CountNonZero(part) / ((double)r.Width * r.Height);
    }

    /// <summary>The binary mask into <see cref="_maskBytes"/> (row-major, one byte a pixel) for the column projections.</summary>
    private void CopyMask() => CopyBytes(_mask, ref _maskBytes);

    /// <summary>A one-byte-a-pixel <paramref name="mat"/> into <paramref name="bytes"/> (row-major; grown when too small).</summary>
    private static void CopyBytes(Mat mat, ref byte[] bytes)
    {
        int rows = mat.Rows, cols = mat.Cols, n = rows * cols;
        if (bytes.Length < n) bytes = new byte[n];
        if (mat.IsContinuous()) System.Runtime.InteropServices.Marshal.Copy(mat.Data, bytes, 0, n);
        else
            for (int y = 0; y < rows; y++) System.Runtime.InteropServices.Marshal.Copy(mat.Ptr(y), bytes, y * cols, cols);
    }

    /// <summary>
    /// Cuts blob <paramref name="r"/> (analysis pixels) into as many objects as its width holds, at the columns with the
    /// fewest foreground pixels near the even cuts, and adds each part's tight box to <paramref name="into"/>.
    /// </summary>
    private void Split(Rect r, List<Rect> into)
    {
        double one = r.Height * _options.ObjectAspect;
        int parts = one <= 0 || r.Width < _options.SplitFactor * one ? 1 : Math.Max(1, (int)Math.Round(r.Width / one));
        if (parts == 1)
        {
            into.Add(r);
            return;
        }
        int stride = _mask.Cols; // analysis width (the mask was copied row-major)
        Span<int> columns = r.Width <= 1024 ? stackalloc int[r.Width] : new int[r.Width];
        for (int x = 0; x < r.Width; x++)
        {
            int sum = 0;
            for (int y = r.Y; y < r.Bottom; y++) sum += _maskBytes[y * stride + r.X + x] >> 7;
            columns[x] = sum;
        }
        int start = 0;
        for (int k = 1; k <= parts; k++)
        {
            int end;
            if (k == parts) end = r.Width;
            else
            {
                // The emptiest column within a third of a part's width of the even cut.
                int nominal = (int)Math.Round(k * r.Width / (double)parts), reach = Math.Max(1, (int)(r.Width / (3.0 * parts)));
                end = nominal;
                for (int x = Math.Max(start + 1, nominal - reach); x <= Math.Min(r.Width - 1, nominal + reach); x++)
                    if (columns[x] < columns[end]) end = x;
            }
            // Tight rows of this part.
            int top = -1, bottom = -1;
            for (int y = r.Y; y < r.Bottom; y++)
            {
                int row = y * stride + r.X;
                for (int x = start; x < end; x++)
                    if (_maskBytes[row + x] != 0)
                    {
                        if (top < 0) top = y;
                        bottom = y;
                        break;
                    }
            }
            if (top >= 0 && end > start) into.Add(new Rect(r.X + start, top, end - start, bottom - top + 1));
            start = end;
        }
    }

    /// <summary>Fraction of full-frame box <paramref name="r"/> that is foreground in the copied mask (analysis pixels).</summary>
    private double FullFrameFill(Rect r)
    {
        int div = _downscale;
        var a = Rect.Intersect(new Rect(r.X / div, r.Y / div, Math.Max(1, r.Width / div), Math.Max(1, r.Height / div)), new Rect(0, 0, _mask.Cols, _mask.Rows));
        return a.Width <= 0 || a.Height <= 0 ? 0 : Fill(a);
    }

    /// <summary>Fraction of <paramref name="r"/> (analysis pixels) that is foreground in the copied mask.</summary>
    private double Fill(Rect r)
    {
        int stride = _mask.Cols, count = 0;
        for (int y = r.Y; y < r.Bottom; y++)
            for (int x = r.X; x < r.Right; x++) count += _maskBytes[y * stride + x] >> 7;
        return count / ((double)r.Width * r.Height);
    }

    /// <summary>
    /// <see cref="BackgroundSubtractorOptions.HeadSplit"/>: finds the heads on blob <paramref name="r"/>'s top edge (analysis
    /// pixels) and, when there are two or more, adds one box per head to <paramref name="into"/> and returns true.
    /// </summary>
    private bool SplitAtHeads(Rect r, List<Rect> into)
    {
        if (r.Width < 3 || (_options.SizePrior && !_sizeFitted)) return false; // a person's height is not known yet
        int stride = _mask.Cols, div = _downscale, n = r.Width;
        var top = new int[n];
        var src = _headFromMog ? _headBytes : _maskBytes;
        for (int x = 0; x < n; x++)
        {
            int y = r.Y;
            while (y < r.Bottom && src[y * stride + r.X + x] == 0) y++;
            top[x] = y;
        }
        // A person's height (analysis pixels) whose head is at row y: the size prior's line once fitted, else the blob's height below y.
        double Height(int y) => _sizeFitted && _slope * y * div + _intercept > 0 ? (_slope * y * div + _intercept) / div : r.Bottom - y;
        // The middle (blob columns) of the plateau around column x: the columns next to it within a few pixels of its top.
        double Centre(int x)
        {
            double flat = Math.Max(1, 0.03 * Height(top[x]));
            int left = x, right = x;
            while (left > 0 && top[left - 1] <= top[x] + flat) left--;
            while (right < n - 1 && top[right + 1] <= top[x] + flat) right++;
            return (left + right + 1) / 2.0;
        }
        // Heads: columns in order of height (highest first); each is kept when its plateau's middle is far enough from
        // every kept head's and the edge dips deep enough between them (so the shoulders of a kept head never count).
        Span<int> order = n <= 1024 ? stackalloc int[n] : new int[n];
        for (int x = 0; x < n; x++) order[x] = x;
        order.Sort((a, b) => top[a] != top[b] ? top[a].CompareTo(top[b]) : a.CompareTo(b));
        var heads = new List<(int X, double Centre)>(4);
        if (top[order[0]] >= r.Bottom || n < _aspect * Height(top[order[0]])) return false; // one person wide at most: nothing to split
        foreach (int x in order)
        {
            if (top[x] >= r.Bottom) break;
            double h = Height(top[x]);
            if (h < 2 || top[x] - top[order[0]] > _options.HeadBand * h) break; // heads of one group are at about one height
            double apart = _options.HeadSeparation * _aspect * h, dip = _options.HeadProminence * h, centre = Centre(x);
            bool keep = true;
            foreach (var (k, c) in heads)
            {
                if (Math.Abs(centre - c) < apart)
                {
                    keep = false;
                    break;
                }
                int lowest = 0;
                for (int i = Math.Min(x, k); i <= Math.Max(x, k); i++) lowest = Math.Max(lowest, top[i]);
                if (lowest - top[x] < dip)
                {
                    keep = false;
                    break;
                }
            }
            if (keep) heads.Add((x, centre));
        }
        if (heads.Count < 2) return false;
        var parts = new List<Rect>(heads.Count);
        foreach (var (x, c) in heads)
        {
            double h = Height(top[x]), centre = r.X + c, width = _aspect * h;
            int x0 = Math.Max(r.X, (int)Math.Round(centre - width / 2)), x1 = Math.Min(r.Right, (int)Math.Round(centre + width / 2));
            int y0 = top[x], y1 = Math.Min(r.Bottom, (int)Math.Round(top[x] + h));
            if (x1 > x0 && y1 > y0) parts.Add(new Rect(x0, y0, x1 - x0, y1 - y0));
        }
        if (_options.HeadFill > 0) parts.RemoveAll(p => Fill(p) < _options.HeadFill);
        if (parts.Count < 2) return false;
        into.AddRange(parts);
        return true;
    }

    /// <summary>Size and shape priors on a full-frame box.</summary>
    private bool Plausible(Rect r)
    {
        if (r.Height < _minHeight) return false;
        double ratio = r.Width / (double)r.Height;
        if (_options.MaxWidthToHeight > 0 && ratio > _options.MaxWidthToHeight) return false;
        if (_options.MinWidthToHeight > 0 && ratio < _options.MinWidthToHeight) return false;
        return true;
    }

    /// <summary>Ages this frame's blobs by overlap with the previous frame's and keeps those old enough.</summary>
    private List<Rect> Survivors(List<Rect> rects)
    {
        if (_options.MinLifetime <= 1) return rects;
        _current.Clear();
        var kept = new List<Rect>(rects.Count);
        foreach (var r in rects)
        {
            int age = 1;
            foreach (var (p, a) in _previous)
                if (IoU(r, p) >= LifetimeIoU) age = Math.Max(age, a + 1);
            _current.Add((r, age));
            if (age >= _options.MinLifetime) kept.Add(r);
        }
        _previous.Clear();
        _previous.AddRange(_current);
        return kept;
    }

    private sealed class Remembered
    {
        public Rect2d Box;
        public double Vx, Vy;
        public int Unseen, Hits;
    }

    private readonly List<Remembered> _memory = new();
    private const double MemoryInside = 0.6, MemoryMatch = 0.3;
    private const int MemoryMinHits = 2;

    /// <summary>
    /// <see cref="BackgroundSubtractorOptions.MemorySplit"/>: moves the remembered objects on by their velocities, reports a
    /// blob holding two or more of them as those objects, then updates the memory from this frame's boxes.
    /// </summary>
    private List<(Rect Box, bool Predicted)> Remember(List<Rect> rects, Rect frameRect)
    {
        foreach (var m in _memory)
        {
            m.Box.X += m.Vx;
            m.Box.Y += m.Vy;
        }
        var found = new List<(Rect Box, bool Predicted)>(rects.Count + 4);
        var owner = new List<Remembered?>(rects.Count + 4);
        var inside = new List<Remembered>();
        foreach (var r in rects)
        {
            inside.Clear();
            foreach (var m in _memory)
            {
                if (m.Hits < MemoryMinHits || m.Unseen >= _options.MemoryFrames || Inside(m.Box, r) < MemoryInside) continue;
                // Two memories of one object (overlapping, moving alike): keep the better established.
                int twin = inside.FindIndex(o => IoU(o.Box, m.Box) > 0.5 && Math.Abs(o.Vx - m.Vx) + Math.Abs(o.Vy - m.Vy) < 1);
                if (twin < 0) inside.Add(m);
                else if (m.Hits > inside[twin].Hits) inside[twin] = m;
            }
            if (inside.Count < 2)
            {
                found.Add((r, false));
                owner.Add(null);
                continue;
            }
            foreach (var m in inside)
            {
                // Follow the mask: move the predicted box sideways onto the foreground's centre under it.
                double shift = Recentre(ToRect(m.Box), r);
                m.Box.X += shift;
                var part = Rect.Intersect(ToRect(m.Box), r);
                if (part.Width <= 0 || part.Height <= 0) continue;
                found.Add((part, true));
                owner.Add(m);
            }
        }
        // Update: a predicted part belongs to its memory (unseen on its own); a seen blob updates the memory it overlaps most.
        var matched = new HashSet<Remembered>();
        for (int i = 0; i < found.Count; i++)
            if (owner[i] is { } m)
            {
                m.Unseen++;
                matched.Add(m);
            }
        var pairs = new List<(double IoU, int Index, Remembered Memory)>();
        for (int i = 0; i < found.Count; i++)
        {
            if (found[i].Predicted) continue;
            var b = ToRect2d(found[i].Box);
            foreach (var m in _memory)
            {
                if (matched.Contains(m)) continue;
                double v = IoU(b, m.Box);
                if (v >= MemoryMatch) pairs.Add((v, i, m));
            }
        }
        pairs.Sort(static (a, b) => b.IoU.CompareTo(a.IoU));
        var used = new HashSet<int>();
        foreach (var (_, i, m) in pairs)
        {
            if (used.Contains(i) || matched.Contains(m)) continue;
            used.Add(i);
            matched.Add(m);
            var b = ToRect2d(found[i].Box);
            // Velocity from the centre's move since last frame (the predicted box minus this frame's velocity).
            double mx = b.X + b.Width / 2 - (m.Box.X - m.Vx + m.Box.Width / 2), my = b.Y + b.Height / 2 - (m.Box.Y - m.Vy + m.Box.Height / 2);
            m.Vx = 0.5 * m.Vx + 0.5 * mx;
            m.Vy = 0.5 * m.Vy + 0.5 * my;
            m.Box = b;
            m.Unseen = 0;
            m.Hits++;
        }
        foreach (var m in _memory)
            if (!matched.Contains(m)) m.Unseen++;
        _memory.RemoveAll(m => m.Unseen > _options.MemoryFrames || Rect.Intersect(ToRect(m.Box), frameRect).Width <= 0);
        for (int i = 0; i < found.Count; i++)
            if (!found[i].Predicted && !used.Contains(i))
                _memory.Add(new Remembered { Box = ToRect2d(found[i].Box), Hits = 1 });
        return found;
    }

    /// <summary>
    /// Horizontal shift (full-frame pixels) that puts <paramref name="box"/>'s centre on the centroid of the foreground
    /// columns under it within <paramref name="blob"/> (two steps of mean shift; 0 when nothing is under it).
    /// </summary>
    private double Recentre(Rect box, Rect blob)
    {
        int div = _downscale, stride = _mask.Cols, rows = _mask.Rows;
        double total = 0;
        for (int step = 0; step < 2; step++)
        {
            var area = Rect.Intersect(new Rect(box.X + (int)Math.Round(total), box.Y, box.Width, box.Height), blob);
            if (area.Width <= 0 || area.Height <= 0) break;
            int x0 = Math.Max(0, area.X / div), x1 = Math.Min(stride, area.Right / div), y0 = Math.Max(0, area.Y / div), y1 = Math.Min(rows, area.Bottom / div);
            double sum = 0, count = 0;
            for (int y = y0; y < y1; y++)
            {
                int row = y * stride;
                for (int x = x0; x < x1; x++)
                    if (_maskBytes[row + x] != 0)
                    {
                        sum += x;
                        count++;
                    }
            }
            if (count == 0) break;
            double centre = (sum / count + 0.5) * div, current = box.X + total + box.Width / 2.0;
            total += centre - current;
        }
        return total;
    }

    private static Rect ToRect(Rect2d r) => new((int)Math.Round(r.X), (int)Math.Round(r.Y), (int)Math.Round(r.Width), (int)Math.Round(r.Height));
    private static Rect2d ToRect2d(Rect r) => new(r.X, r.Y, r.Width, r.Height);

    /// <summary>Fraction of <paramref name="a"/> inside <paramref name="b"/>.</summary>
    private static double Inside(Rect2d a, Rect b)
    {
        double x1 = Math.Max(a.X, b.X), y1 = Math.Max(a.Y, b.Y), x2 = Math.Min(a.X + a.Width, b.X + b.Width), y2 = Math.Min(a.Y + a.Height, b.Y + b.Height);
        if (x2 <= x1 || y2 <= y1 || a.Width <= 0 || a.Height <= 0) return 0;
        return (x2 - x1) * (y2 - y1) / (a.Width * a.Height);
    }

    private static double IoU(Rect2d a, Rect2d b)
    {
        double x1 = Math.Max(a.X, b.X), y1 = Math.Max(a.Y, b.Y), x2 = Math.Min(a.X + a.Width, b.X + b.Width), y2 = Math.Min(a.Y + a.Height, b.Y + b.Height);
        if (x2 <= x1 || y2 <= y1) return 0;
        double inter = (x2 - x1) * (y2 - y1);
        return inter / (a.Width * a.Height + b.Width * b.Height - inter);
    }

    private readonly List<(double Top, double Height)> _sizeSamples = new();
    private int _sizeNext;
    private double _slope, _intercept;
    private bool _sizeFitted;
    private const int SizeCapacity = 256;

    /// <summary>
    /// <see cref="BackgroundSubtractorOptions.SizePrior"/>: learns height against top row from upright blobs clear of the
    /// edges, refits the line (least squares, then again without the samples far off it) and cuts the boxes to it.
    /// </summary>
    private List<Rect> FitSizes(List<Rect> rects, int w, int h)
    {
        const int edge = 3;
        foreach (var r in rects)
        {
            double ratio = r.Width / (double)r.Height;
            if (ratio < 0.2 || ratio > 0.6 || r.X < edge || r.Y < edge || r.Right > w - edge || r.Bottom > h - edge) continue;
            if (_sizeSamples.Count < SizeCapacity) _sizeSamples.Add((r.Y, r.Height));
            else _sizeSamples[_sizeNext] = (r.Y, r.Height);
            _sizeNext = (_sizeNext + 1) % SizeCapacity;
        }
        if (_sizeSamples.Count >= _options.SizePriorSamples) Refit();
        if (!_sizeFitted) return rects;
        var fitted = new List<Rect>(rects.Count);
        foreach (var r in rects)
        {
            double expected = _slope * r.Y + _intercept;
            if (expected <= 0)
            {
                fitted.Add(r);
                continue;
            }
            int height = (int)Math.Min(r.Height, Math.Round(expected));
            double widest = _options.SizePriorWidth * expected;
            // Leaving or entering through a side: too little of the object is in the picture to count.
            if (_options.EdgeWidth > 0 && (r.X <= edge || r.Right >= w - edge) && r.Width < _options.EdgeWidth * _aspect * expected) continue;
            int width = r.Width, x = r.X;
            if (widest > 0 && width > widest)
            {
                width = (int)Math.Round(widest);
                x = r.X + (r.Width - width) / 2;
            }
            fitted.Add(new Rect(x, r.Y, width, Math.Max(1, height)));
        }
        return fitted;
    }

    private void Refit()
    {
        if (!Line(_sizeSamples, out double a, out double b)) return;
        var residuals = _sizeSamples.ConvertAll(p => Math.Abs(p.Height - (a * p.Top + b)));
        var sorted = residuals.ToArray();
        Array.Sort(sorted);
        double limit = 2 * Math.Max(1, sorted[sorted.Length / 2]);
        var kept = new List<(double Top, double Height)>(_sizeSamples.Count);
        for (int i = 0; i < _sizeSamples.Count; i++)
            if (residuals[i] <= limit) kept.Add(_sizeSamples[i]);
        if (kept.Count >= 3 && Line(kept, out double a2, out double b2)) (a, b) = (a2, b2);
        (_slope, _intercept, _sizeFitted) = (a, b, true);
    }

    private static bool Line(List<(double Top, double Height)> points, out double slope, out double intercept)
    {
        double n = points.Count, sx = 0, sy = 0, sxx = 0, sxy = 0;
        foreach (var (x, y) in points)
        {
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double d = n * sxx - sx * sx;
        if (n < 2 || d <= 1e-9 * n * n)
        {
            // All at one row: a constant height.
            slope = 0;
            intercept = n > 0 ? sy / n : 0;
            return n > 0;
        }
        slope = (n * sxy - sx * sy) / d;
        intercept = (sy - slope * sx) / n;
        return true;
    }

    private static double IoU(Rect a, Rect b)
    {
        var i = Rect.Intersect(a, b);
        if (i.Width <= 0 || i.Height <= 0) return 0;
        double inter = (double)i.Width * i.Height;
        return inter / ((double)a.Width * a.Height + (double)b.Width * b.Height - inter);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _model.Dispose();
        _small.Dispose();
        _mask.Dispose();
        _kernel?.Dispose();
        _verticalKernel?.Dispose();
        foreach (var g in _greys) g.Dispose();
        _scratch.Dispose();
        _change.Dispose();
        _diff.Dispose();
        _moved.Dispose();
        _headMask.Dispose();
        NativeHandles.Closed(NativeHandles.BackgroundModel);
    }
}
