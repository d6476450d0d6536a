using System.CommandLine;
using StreamVision.App.Config;

namespace StreamVision.App.Commands;

/// <summary>
/// <c>streamvision config check FILE</c>: the effective configuration, or every error with its key path;
/// <c>streamvision config reference</c>: the configuration reference generated from the options types.
/// </summary>
public static class ConfigCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "YAML configuration file" };
        var check = new Command("check", "Load and validate a configuration; print the effective settings or every error.") { file };
        check.SetAction(pr => Check(pr.GetValue(file)!, Console.Out, Console.Error));
        var reference = new Command("reference", "Print the configuration reference (Markdown: every key, its type, default, range and meaning), as in docs/configuration.md.");
        reference.SetAction(_ =>
        {
            Console.Out.Write(ConfigReference.Generate());
            return ExitCodes.Ok;
        });
        return new Command("config", "Configuration tools.") { check, reference };
    }

    public static int Check(string path, TextWriter output, TextWriter error)
    {
        try
        {
            var c = ConfigLoader.LoadFile(path);
            ConfigPrinter.Print(c, output);
            // Files are checked when the service starts; here a missing one is only a warning (configs travel between machines).
            var m = c.Detector.Model;
            bool noFile = m.Equals("none", StringComparison.OrdinalIgnoreCase) || m.Equals("motion", StringComparison.OrdinalIgnoreCase)
                || m.Equals("detections-file", StringComparison.OrdinalIgnoreCase);
            if (!noFile && !Inference.ModelCatalog.BuiltInNames.Contains(m, StringComparer.OrdinalIgnoreCase) && !File.Exists(m))
                error.WriteLine($"config: warning: detector.model: file not found here: '{m}'");
            return ExitCodes.Ok;
        }
        catch (ConfigException ex)
        {
            error.WriteLine($"config: {path}: {ex.Errors.Count} error(s)");
            foreach (var e in ex.Errors) error.WriteLine($"  {e}");
            return ExitCodes.Usage;
        }
    }
}
