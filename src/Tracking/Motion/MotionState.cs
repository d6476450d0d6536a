using System.Runtime.CompilerServices;
using StreamVision.Core;

namespace StreamVision.Tracking.Motion;

/// <summary>
/// The motion state one track owns: plain data that an <see cref="IMotionModel"/> reads and writes.
/// It is a value type of fixed size (about 1 KB), so a tracker keeps the states of all its tracks in one
/// array and a model can predict them as one batch (<see cref="IMotionModel.PredictMany"/>).
/// </summary>
/// <remarks>
/// Contract every model keeps, so a tracker can read a state without knowing the model:
/// <c>Mean[0..3]</c> = centre x, centre y, width, height (pixels) of the current estimate and
/// <c>Mean[4..7]</c> = their rates of change (pixels per second). The rest of <see cref="Mean"/> and
/// <see cref="Covariance"/> belong to the model (a model without uncertainty leaves the covariance zero).
/// <see cref="History"/> holds the last <see cref="ObservationHistory.Capacity"/> measured boxes with their
/// times — what a learned sequence model feeds on; it never grows beyond that.
/// </remarks>
public struct MotionState
{
    /// <summary>State vector; see the remarks for the fixed part of its layout.</summary>
    public MotionVector Mean;

    /// <summary>Row-major 8x8 covariance of <see cref="Mean"/> (Kalman); zero for models that keep none.</summary>
    public MotionCovariance Covariance;

    /// <summary>Stream time of the estimate, seconds. <see cref="IMotionModel.Predict"/> advances it.</summary>
    public double Time;

    /// <summary>The last measured boxes, oldest first, each with the <see cref="Time"/> it was measured at.</summary>
    public ObservationHistory History;

    /// <summary>The estimated box (from <c>Mean[0..3]</c>).</summary>
    public readonly Box Box => Box.FromCenter((float)Mean[0], (float)Mean[1], (float)Mean[2], (float)Mean[3]);

    /// <summary>Estimated centre velocity along x, pixels per second.</summary>
    public readonly double VelocityX => Mean[4];

    /// <summary>Estimated centre velocity along y, pixels per second.</summary>
    public readonly double VelocityY => Mean[5];
}

/// <summary>Eight doubles stored inline: a motion state vector.</summary>
[InlineArray(Length)]
public struct MotionVector
{
    /// <summary>Number of elements.</summary>
    public const int Length = 8;

    private double _element0;
}

/// <summary>64 doubles stored inline: a row-major 8x8 matrix.</summary>
[InlineArray(Length)]
public struct MotionCovariance
{
    /// <summary>Number of elements (8 x 8).</summary>
    public const int Length = MotionVector.Length * MotionVector.Length;

    private double _element0;
}

/// <summary>One measured box and the stream time (seconds) it was measured at.</summary>
public readonly record struct Observation(Box Box, double Time);

/// <summary>
/// Ring buffer of the last <see cref="Capacity"/> observations of a track, stored inline (no allocation).
/// Adding to a full buffer drops the oldest observation.
/// </summary>
public struct ObservationHistory
{
    /// <summary>Most observations kept per track.</summary>
    public const int Capacity = 16;

    private Buffer _items;
    private int _start;
    private int _count;

    /// <summary>Observations held, at most <see cref="Capacity"/>.</summary>
    public readonly int Count => _count;

    /// <summary>Observation <paramref name="index"/>, 0 being the oldest held.</summary>
    public readonly Observation this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index), index, $"history holds {_count} observations");
            return _items[(_start + index) % Capacity];
        }
    }

    /// <summary>The newest observation; throws when empty.</summary>
    public readonly Observation Latest => this[_count - 1];

    /// <summary>Appends an observation, dropping the oldest when full.</summary>
    public void Add(in Observation observation)
    {
        if (_count < Capacity)
        {
            _items[(_start + _count) % Capacity] = observation;
            _count++;
        }
        else
        {
            _items[_start] = observation;
            _start = (_start + 1) % Capacity;
        }
    }

    /// <summary>Empties the history.</summary>
    public void Clear()
    {
        _start = 0;
        _count = 0;
    }

    /// <summary>Copies the newest <c>min(Count, destination.Length)</c> observations, oldest first; returns how many.</summary>
    public readonly int CopyLatest(Span<Observation> destination)
    {
        int n = Math.Min(_count, destination.Length);
        int first = _count - n;
        for (int i = 0; i < n; i++) destination[i] = _items[(_start + first + i) % Capacity];
        return n;
    }

    [InlineArray(Capacity)]
    private struct Buffer
    {
        private Observation _element0;
    }
}
