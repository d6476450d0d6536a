namespace StreamVision.Testing;

/// <summary>
/// Runs in-process command lines with the console captured. Console.Out and Console.Error are process-wide, so two tests
/// redirecting them at once (xUnit runs test classes in parallel) would each read the other's text or none: every
/// capture takes one lock.
/// </summary>
internal static class ConsoleCapture
{
    private static readonly object s_gate = new();

    /// <summary>Runs <paramref name="main"/>; returns its exit code and what it printed to standard output and error.</summary>
    public static (int Code, string Out, string Error) Run(Func<int> main)
    {
        lock (s_gate)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            TextWriter stdout = Console.Out, stderr = Console.Error;
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = main();
                return (code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
            }
        }
    }
}
