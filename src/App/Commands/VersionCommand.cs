using System.CommandLine;
using System.Reflection;
using StreamVision.Imaging;
using StreamVision.Inference;
using StreamVision.Native;

namespace StreamVision.App.Commands;

/// <summary><c>streamvision version</c>: StreamVision, FFmpeg, OpenCV and ONNX Runtime versions and the execution providers.</summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var cmd = new Command("version", "Print StreamVision, FFmpeg, OpenCV and ONNX Runtime versions and the execution providers that can create a session here.");
        cmd.SetAction(_ => Run(Console.Out));
        return cmd;
    }

    public static int Run(TextWriter output)
    {
        // Start-up: loading ONNX Runtime and probing its providers, loading OpenCV (and the GTK libraries it links) and
        // loading FFmpeg are independent and each costs tens of milliseconds: they run side by side, printed in order.
        var ort = Task.Run(() => OnnxRuntimeInfo.TryLoad(out var v, out _, out var e)
            ? (Version: v, Probes: OnnxRuntimeInfo.ProbeProviders(), Error: "")
            : (Version: "", Probes: (IReadOnlyList<OnnxRuntimeInfo.ProviderProbe>)[], Error: e));
        var openCv = Task.Run(() => TryOpenCvVersion(out var v, out var e) ? (Ok: true, Version: v, Error: "") : (Ok: false, Version: "", Error: e));
        string sv = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";
        output.WriteLine($"StreamVision   {sv}");
        int rc = ExitCodes.Ok;
        try
        {
            output.WriteLine($"FFmpeg         {NativeInfo.FfmpegVersion}");
        }
        catch (DllNotFoundException ex)
        {
            output.WriteLine($"native shim    unavailable: {ex.Message}");
            rc = ExitCodes.Failed;
        }
        var cv = openCv.GetAwaiter().GetResult();
        if (cv.Ok)
        {
            output.WriteLine($"OpenCV         {cv.Version} (OpenCvSharp)");
        }
        else
        {
            output.WriteLine($"OpenCV         unavailable: {cv.Error}");
            rc = ExitCodes.Failed;
        }
        var (ortVersion, probes, error) = ort.GetAwaiter().GetResult();
        if (error.Length == 0)
        {
            output.WriteLine($"ONNX Runtime   {ortVersion} ({OnnxRuntimeInfo.Flavour} build)");
            // The library lists what it was built with; only a real session proves a provider loads here.
            output.WriteLine($"providers      {string.Join(", ", probes.Where(p => p.Usable).Select(p => p.Name))}");
            foreach (var p in probes.Where(p => !p.Usable))
                output.WriteLine($"  {p.Name,-12} unavailable: {p.Reason}");
        }
        else
        {
            output.WriteLine($"ONNX Runtime   unavailable: {error}");
            rc = ExitCodes.Failed;
        }
        return rc;
    }

    /// <summary>OpenCvSharp's OpenCV version, or why its native library (libOpenCvSharpExtern.so) cannot load.</summary>
    public static bool TryOpenCvVersion(out string version, out string error)
    {
        try
        {
            version = ImagingInfo.OpenCvVersion;
            error = "";
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            // A missing dependency of the native library (GTK 3 and friends: tools/setup.sh installs them) lands here.
            var inner = ex;
            while (inner.InnerException is not null) inner = inner.InnerException;
            version = "";
            error = inner.Message;
            return false;
        }
    }
}
