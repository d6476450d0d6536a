using StreamVision.Core;

namespace StreamVision.Inference.Preprocessing;

/// <summary>
/// Maps model-input pixels back to the original frame: <c>frame = (input - Pad) / Scale</c>, per axis.
/// Exact for both letterbox (equal scales, padding) and stretch (different scales, no padding).
/// </summary>
public readonly record struct LetterboxTransform(float ScaleX, float ScaleY, float PadX, float PadY, int FrameWidth, int FrameHeight)
{
    public static LetterboxTransform Compute(int frameWidth, int frameHeight, int inputWidth, int inputHeight, ResizeMode mode)
    {
        if (mode == ResizeMode.Stretch)
            return new((float)inputWidth / frameWidth, (float)inputHeight / frameHeight, 0, 0, frameWidth, frameHeight);
        float s = Math.Min((float)inputWidth / frameWidth, (float)inputHeight / frameHeight);
        int w = Math.Max(1, (int)MathF.Round(frameWidth * s));
        int h = Math.Max(1, (int)MathF.Round(frameHeight * s));
        // Use the rounded size so the mapping matches the pixels actually written.
        return new((float)w / frameWidth, (float)h / frameHeight, (inputWidth - w) / 2, (inputHeight - h) / 2, frameWidth, frameHeight);
    }

    /// <summary>Size of the resized image inside the input.</summary>
    public int ResizedWidth => (int)MathF.Round(FrameWidth * ScaleX);
    public int ResizedHeight => (int)MathF.Round(FrameHeight * ScaleY);

    public float ToFrameX(float inputX) => (inputX - PadX) / ScaleX;
    public float ToFrameY(float inputY) => (inputY - PadY) / ScaleY;

    /// <summary>A box in input pixels mapped to the frame and clipped to it.</summary>
    public Box ToFrame(Box input) =>
        new Box(ToFrameX(input.X1), ToFrameY(input.Y1), ToFrameX(input.X2), ToFrameY(input.Y2)).Clip(FrameWidth, FrameHeight);
}
