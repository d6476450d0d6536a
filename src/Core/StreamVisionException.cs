namespace StreamVision.Core;

/// <summary>Base of every error StreamVision raises on purpose. Leaves are sealed and say what failed and on which input.</summary>
public abstract class StreamVisionException : Exception
{
    protected StreamVisionException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A configuration or option value is invalid. <see cref="Path"/> names the key (e.g. <c>streams[2].uri</c>).</summary>
public sealed class OptionsException : StreamVisionException
{
    public OptionsException(string path, string message) : base($"{path}: {message}") => Path = path;

    public string Path { get; }
}
