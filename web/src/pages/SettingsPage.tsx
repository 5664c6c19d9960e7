// The Settings page: configuration with sources (system keys; admins edit live settings), tenants (system admins), API keys (admins), the audit log.
import { useCan, useSession } from '../api/session.ts';
import { ApiKeys } from '../components/settings/ApiKeys.tsx';
import { AuditLog } from '../components/settings/AuditLog.tsx';
import { ConfigEditor } from '../components/settings/ConfigEditor.tsx';
import { Tenants } from '../components/settings/Tenants.tsx';

export function SettingsPage() {
  // PATCH /config and the key routes are admin-only (src/http/api/config.ts, keys.ts); configuration and tenants are
  // system-wide, so a tenant's key (any role) gets neither (the server answers 403).
  const isAdmin = useCan('admin');
  const tenant = useSession().data?.tenant ?? null;
  return (
    <div className="stack">
      <h1>Settings</h1>
      {tenant === null ? (
        <ConfigEditor editable={isAdmin} />
      ) : (
        <p className="muted system-wide-note">
          Configuration is system-wide and shown to system keys only; this key acts in tenant <strong>{tenant}</strong>.
        </p>
      )}
      {isAdmin && tenant === null ? <Tenants /> : null}
      {isAdmin ? <ApiKeys tenant={tenant} /> : null}
      <AuditLog />
    </div>
  );
}
