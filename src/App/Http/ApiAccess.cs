using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using StreamVision.App.Config;
using StreamVision.Core;

namespace StreamVision.App.Http;

/// <summary>
/// Who may use the HTTP server: with a token (<see cref="HttpConfig.Token"/> or <see cref="HttpConfig.TokenFile"/>) every
/// request but the open paths must carry it, as <c>Authorization: Bearer TOKEN</c> or as the session cookie that
/// <c>POST /api/login</c> sets for the dashboard (its MJPEG <c>img</c> cannot send a header). Open: the dashboard page
/// and its <c>/ui/</c> scripts and styles (it asks for the token), <c>/healthz</c>, <c>/readyz</c>, <c>/api/login</c>, and <c>/metrics</c> when
/// <see cref="HttpConfig.MetricsPublic"/>. Without a token (loopback, or <c>allow_unauthenticated</c>) everything is open.
/// </summary>
public sealed class ApiAccess
{
    /// <summary>The dashboard's login: <c>{"token": "..."}</c> in, the session cookie out.</summary>
    public const string LoginPath = "/api/login";
    /// <summary>The session cookie: an HMAC of the token (never the token itself), HttpOnly, SameSite=Strict.</summary>
    public const string CookieName = "sv_session";

    private readonly byte[]? _token;
    private readonly string? _session;
    private readonly bool _metricsPublic;

    private ApiAccess(string? token, bool metricsPublic, long maxBodyBytes)
    {
        Token = token;
        _metricsPublic = metricsPublic;
        MaxBodyBytes = maxBodyBytes;
        if (token is not null)
        {
            _token = Encoding.UTF8.GetBytes(token);
            _session = Convert.ToHexString(HMACSHA256.HashData(_token, "streamvision dashboard session"u8));
        }
    }

    /// <summary>The token requests must carry; null = none needed.</summary>
    public string? Token { get; }
    public long MaxBodyBytes { get; }

    /// <summary>The token from the options (reading <c>token_file</c>); throws <see cref="OptionsException"/> naming the key when it cannot.</summary>
    public static ApiAccess From(HttpConfig http)
    {
        string? token = http.Token?.Trim();
        if (http.TokenFile is { } file)
        {
            try
            {
                token = File.ReadLines(file).FirstOrDefault()?.Trim() ?? "";
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new OptionsException("http.token_file", $"cannot read {file}: {ex.Message}");
            }
            if (token.Length < HttpConfig.MinTokenLength)
                throw new OptionsException("http.token_file", $"{file}: the token on its first line must be at least {HttpConfig.MinTokenLength} characters");
        }
        return new ApiAccess(token, http.MetricsPublic, http.MaxBodyBytes);
    }

    /// <summary>True when the request may go on: no token needed, an open path, or the right token or cookie.</summary>
    public bool Allows(HttpContext ctx)
    {
        if (_token is null) return true;
        string path = ctx.Request.Path.Value ?? "/";
        if (path is "/" or "/healthz" or "/readyz" or LoginPath) return true;
        // The web interface's own scripts and styles (embedded files, no data): the page must load to ask for the token.
        if (path.StartsWith("/ui/", StringComparison.Ordinal)) return true;
        if (path == "/metrics" && _metricsPublic) return true;
        string auth = ctx.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(auth["Bearer ".Length..].Trim()), _token))
            return true;
        return ctx.Request.Cookies.TryGetValue(CookieName, out var cookie) && cookie is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(cookie), Encoding.ASCII.GetBytes(_session!));
    }

    /// <summary>Checks a token given to the login page; sets the session cookie when it is right.</summary>
    public bool Login(HttpContext ctx, string token)
    {
        if (_token is null) return true;
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token.Trim()), _token)) return false;
        ctx.Response.Cookies.Append(CookieName, _session!, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = ctx.Request.IsHttps,
            Path = "/",
        });
        return true;
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c> and a JSON error.</summary>
    public static Task RefuseAsync(HttpContext ctx)
    {
        ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
        ctx.Response.Headers.WWWAuthenticate = "Bearer";
        return ctx.Response.WriteAsJsonAsync(new { errors = new[] { "an API token is required: Authorization: Bearer TOKEN (http.token)" } });
    }
}
