using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking.Tests.Motion;

public class MotionStateTests
{
    [Fact]
    public void History_KeepsTheLatestInOrder()
    {
        var h = new ObservationHistory();
        Assert.Equal(0, h.Count);
        for (int i = 0; i < ObservationHistory.Capacity + 5; i++) h.Add(new Observation(new Box(i, 0, i + 1, 1), i));
        Assert.Equal(ObservationHistory.Capacity, h.Count);
        for (int i = 0; i < h.Count; i++) Assert.Equal(i + 5, h[i].Time);

        Span<Observation> last3 = stackalloc Observation[3];
        Assert.Equal(3, h.CopyLatest(last3));
        Assert.Equal([ObservationHistory.Capacity + 2.0, ObservationHistory.Capacity + 3.0, ObservationHistory.Capacity + 4.0],
            last3.ToArray().Select(o => o.Time));
        Assert.Throws<ArgumentOutOfRangeException>(() => h[ObservationHistory.Capacity]);

        h.Clear();
        Assert.Equal(0, h.Count);
        Span<Observation> all = stackalloc Observation[ObservationHistory.Capacity];
        Assert.Equal(0, h.CopyLatest(all));
    }

    [Fact]
    public void State_HasAFixedSize_AndCopiesByValue()
    {
        var a = KalmanMotionModel.Default.Initiate(new Box(0, 0, 10, 10), 0);
        var b = a;
        KalmanMotionModel.Default.Update(ref b, new Box(2, 2, 12, 12));
        Assert.Equal(1, a.History.Count);
        Assert.Equal(2, b.History.Count);
        Assert.NotEqual(a.Mean[0], b.Mean[0]);
    }
}
