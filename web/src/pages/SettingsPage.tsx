// The Settings page: configuration with sources (admins edit live settings), API keys (admin) and the audit log.
import { useCan } from '../api/session.ts';
import { ApiKeys } from '../components/settings/ApiKeys.tsx';
import { AuditLog } from '../components/settings/AuditLog.tsx';
import { ConfigEditor } from '../components/settings/ConfigEditor.tsx';

export function SettingsPage() {
  // PATCH /config and the key routes are admin-only (src/http/api/config.ts, keys.ts).
  const isAdmin = useCan('admin');
  return (
    <div className="stack">
      <h1>Settings</h1>
      <ConfigEditor editable={isAdmin} />
      {isAdmin ? <ApiKeys /> : null}
      <AuditLog />
    </div>
  );
}
