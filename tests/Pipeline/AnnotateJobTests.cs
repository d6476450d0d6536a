using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;
using StreamVision.Inference;

namespace StreamVision.Pipeline.Tests;

public class AnnotateJobTests
{
    [Fact]
    public void IntraOpThreads_AutoGivesASmallModelOneThread_AHeavyOneEveryCore_AndAGivenCountWins()
    {
        // BlazeFace (442 KB) is below the small-model size: one intra-op thread, leaving the cores to decoding and encoding.
        Assert.True(new FileInfo(ModelCatalog.Resolve(ModelCatalog.DefaultModel)).Length < AnnotateJob.SmallModelBytes);
        Assert.Equal(1, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4" }));
        string heavy = Path.Combine(TestEnvironment.NewTempDir(), "heavy.onnx");
        using (var f = File.Create(heavy)) f.SetLength(AnnotateJob.SmallModelBytes + 1);
        Assert.Equal(0, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4", Model = heavy }));
        Assert.Equal(2, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4", Threads = 2 }));
        // Not a model file: left to the detector factory, which names the problem.
        Assert.Equal(0, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4", Model = "none" }));
    }

    /// <summary>This process's open file descriptors that point at <paramref name="path"/>.</summary>
    private static List<string> OpenDescriptors(string path) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd").Where(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget == path;
            }
            catch (IOException)
            {
                return false; // closed meanwhile
            }
        }).ToList();

    [Theory]
    [InlineData("classifier")]
    [InlineData("events")]
    public async Task AJobThatFailsOnAnOptionLeavesNeitherItsInputNorItsOutputsOpen(string failing)
    {
        // Before the fix the input stayed open for the life of the process: a started source nobody stopped decoded until
        // its queue was full and then held its FFmpeg reader (and the file) for good.
        string dir = TestEnvironment.NewTempDir();
        string input = Path.Combine(dir, "clip.mp4");
        File.Copy(TestMedia.H264(), input);
        string notADirectory = Path.Combine(dir, "plain-file");
        File.WriteAllText(notADirectory, "");
        string tracks = Path.Combine(dir, "tracks.txt");
        var o = new AnnotateOptions
        {
            Input = input,
            Model = "motion",
            TracksPath = tracks,
            EventsPath = failing == "events" ? Path.Combine(notADirectory, "events.jsonl") : Path.Combine(dir, "events.jsonl"),
            Classifier = failing == "classifier" ? Path.Combine(dir, "missing.onnx") : null,
        };
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => AnnotateJob.RunAsync(o, NullLogger.Instance, null, CancellationToken.None));
        if (failing == "classifier") Assert.IsType<OptionsException>(ex);
        else
        {
            // The output that cannot be created is named with its option (annotate's message), the I/O error inside.
            Assert.Contains("--events", Assert.IsType<OutputException>(ex).Message);
            Assert.IsAssignableFrom<IOException>(ex.InnerException);
        }
        Assert.Empty(OpenDescriptors(input));
        Assert.Empty(OpenDescriptors(tracks));
    }
}
