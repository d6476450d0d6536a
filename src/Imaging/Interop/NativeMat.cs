using OpenCvSharp;
using OpenCvSharp.Internal;

namespace StreamVision.Imaging.Interop;

/// <summary>Which OpenCV array proxies a <see cref="NativeMat"/> creates with its header.</summary>
[Flags]
internal enum Proxies
{
    None = 0,
    /// <summary><c>cv::_InputArray</c>.</summary>
    In = 1,
    /// <summary><c>cv::_OutputArray</c>, also passed where OpenCV takes a <c>cv::_InputOutputArray</c> (as OpenCvSharp does).</summary>
    Out = 2,
}

/// <summary>
/// A <c>cv::Mat</c> header over memory the caller keeps pinned, and the array proxies OpenCV's functions take, created
/// and deleted through OpenCvSharp's P/Invoke layer (<see cref="NativeMethods"/>) with no managed wrapper object: the
/// per-frame paths (preprocessing resize, drawing) allocate nothing. OpenCvSharp's <see cref="Mat"/> would add about
/// 100 bytes and a finalizable object per header and per proxy, which the detector's steady-state allocation budget
/// does not have room for. Dispose before the memory is unpinned.
/// </summary>
internal readonly unsafe ref struct NativeMat
{
    private readonly IntPtr _mat;
    private readonly IntPtr _in;
    private readonly IntPtr _out;

    private NativeMat(IntPtr mat, Proxies proxies)
    {
        _mat = mat;
        try
        {
            if ((proxies & Proxies.In) != 0) NativeMethods.HandleException(NativeMethods.core_InputArray_new_byMat(mat, out _in));
            if ((proxies & Proxies.Out) != 0) NativeMethods.HandleException(NativeMethods.core_OutputArray_new_byMat(mat, out _out));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A header over <paramref name="rows"/> x <paramref name="cols"/> elements at <paramref name="data"/> with <paramref name="step"/> bytes per row.</summary>
    public static NativeMat Over(void* data, int rows, int cols, MatType type, long step, Proxies proxies)
    {
        NativeMethods.HandleException(NativeMethods.core_Mat_new8(rows, cols, type, (IntPtr)data, (IntPtr)step, out var mat));
        return new NativeMat(mat, proxies);
    }

    /// <summary>A BGR24 header over a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    public static NativeMat Bgr(byte* data, int width, int height, long stride, Proxies proxies) =>
        Over(data, height, width, MatType.CV_8UC3, stride, proxies);

    /// <summary>
    /// A region of <paramref name="parent"/> that keeps knowing its parent, as <c>cv::Mat(parent, roi)</c>: filters then
    /// read the real pixels around the region for their borders (a bare header over the region would mirror its edges).
    /// </summary>
    public static NativeMat Region(in NativeMat parent, Rect roi, Proxies proxies)
    {
        NativeMethods.HandleException(NativeMethods.core_Mat_new7(parent._mat, roi, out var mat));
        return new NativeMat(mat, proxies);
    }

    /// <summary>(x, y) pairs as a column of CV_32SC2 points, read in place.</summary>
    public static NativeMat Points(int* xy, int count) => Over(xy, count, 1, MatType.CV_32SC2, 8, Proxies.In);

    /// <summary>An empty Mat that OpenCV allocates (and this frees) when it is written to.</summary>
    public static NativeMat Empty(Proxies proxies)
    {
        NativeMethods.HandleException(NativeMethods.core_Mat_new1(out var mat));
        return new NativeMat(mat, proxies);
    }

    /// <summary><c>cv::Mat*</c>.</summary>
    public IntPtr Handle => _mat;
    /// <summary><c>cv::_InputArray*</c> (created with <see cref="Proxies.In"/>).</summary>
    public IntPtr In => _in != IntPtr.Zero ? _in : throw new InvalidOperationException("created without an input proxy");
    /// <summary><c>cv::_OutputArray*</c> (created with <see cref="Proxies.Out"/>).</summary>
    public IntPtr Out => _out != IntPtr.Zero ? _out : throw new InvalidOperationException("created without an output proxy");

    /// <summary>Where the header's pixels are now (OpenCV reallocates an output whose size or type does not fit).</summary>
    public byte* Data
    {
        get
        {
            NativeMethods.HandleException(NativeMethods.core_Mat_data(_mat, out byte* data));
            return data;
        }
    }

    public void Dispose()
    {
        if (_in != IntPtr.Zero) NativeMethods.core_InputArray_delete(_in);
        if (_out != IntPtr.Zero) NativeMethods.core_OutputArray_delete(_out);
        if (_mat != IntPtr.Zero) NativeMethods.core_Mat_delete(_mat);
    }
}
