// Hides credentials in URLs (a database URL's password) wherever they are shown: logs, health, config replies, audit.

/** The URL with its password replaced by ***; `fallback` when it is not a URL at all. */
export function redactUrl(url: string, fallback = '***'): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return fallback;
  }
}
