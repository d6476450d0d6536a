using StreamVision.Core;
using StreamVision.Tracking.Mot;

namespace StreamVision.Tracking.Tests.Mot;

public class MotFileTests
{
    [Fact]
    public void Read_ParsesTheSharedGroundTruth()
    {
        var rows = MotFile.Read(SharedData.File("mot15", "TUD-Campus", "gt", "gt.txt"));
        Assert.Equal(359, rows.Count);
        Assert.Equal(new MotRow(1, 1, 399, 182, 121, 229, 1), rows[0]);
        Assert.Equal(Box.FromXywh(399, 182, 121, 229), rows[0].Box);
    }

    [Fact]
    public void Read_AcceptsShortLinesSpacesAndBlankLines()
    {
        var rows = MotFile.Read(new StringReader("1,2,3,4,5,6\n\n  2 3 1.5 2.5 10 20 0.9  \n3,\t4,1,1,2,2,1,7,8,9\n"));
        Assert.Equal(3, rows.Count);
        Assert.Equal(new MotRow(1, 2, 3, 4, 5, 6), rows[0]);
        Assert.Equal(0.9, rows[1].Confidence);
        Assert.Equal(-1, rows[1].WorldX);
        Assert.Equal(9, rows[2].WorldZ);
    }

    [Theory]
    [InlineData("1,2,3,4,5", "at least 6 columns")]
    [InlineData("1,2,3,4,5,x", "column 6")]
    [InlineData("1.5,2,3,4,5,6", "frame")]
    [InlineData("1,2,3,4,5,6,7,8,9,10,11", "more than 10")]
    public void Read_BadLine_NamesFileAndLine(string line, string expected)
    {
        var e = Assert.Throws<MotFormatException>(() => MotFile.Read(new StringReader("1,1,1,1,1,1\n" + line + "\n"), "x.txt"));
        Assert.Equal("x.txt", e.FileName);
        Assert.Equal(2, e.Line);
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x.txt:2:", e.Message);
    }

    [Fact]
    public void WriteThenRead_RoundTrips()
    {
        MotRow[] rows = [new(1, 3, 10.5, 20.25, 30, 40.125, 0.875), new(2, 4, -1.5, 0, 5, 6)];
        var sw = new StringWriter();
        MotFile.Write(sw, rows);
        Assert.Equal("1,3,10.5,20.25,30,40.125,0.875,-1,-1,-1\n2,4,-1.5,0,5,6,-1,-1,-1,-1\n", sw.ToString());
        Assert.Equal(rows, MotFile.Read(new StringReader(sw.ToString())));
    }

    [Fact]
    public void MotRow_IoU_MatchesBoxIoU()
    {
        var a = new MotRow(1, 1, 0, 0, 10, 10);
        var b = new MotRow(1, 2, 5, 0, 10, 10);
        Assert.Equal(1.0 / 3, a.IoU(b), 12);
        Assert.Equal(a.Box.IoU(b.Box), (float)a.IoU(b), 6);
        Assert.Equal(0, a.IoU(new MotRow(1, 3, 20, 20, 5, 5)));
        Assert.Equal(MotRow.FromBox(1, 1, new Box(0, 0, 10, 10)), a);
    }
}
