// The app shell: navigation, the API-key prompt when auth is on, and one route per page.
import { Navigate, NavLink, Route, Routes } from 'react-router-dom';
import { useLiveUpdates } from './api/live.ts';
import { sessionLabel, useSession } from './api/session.ts';
import { KeyPrompt } from './components/KeyPrompt.tsx';
import { DownloadPage } from './pages/DownloadPage.tsx';
import { ModelDetailPage } from './pages/ModelDetailPage.tsx';
import { ModelsPage } from './pages/ModelsPage.tsx';
import { MonitoringPage } from './pages/MonitoringPage.tsx';
import { PlaygroundPage } from './pages/PlaygroundPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';

const PAGES = [
  ['/models', 'Models'],
  ['/download', 'Download'],
  ['/monitoring', 'Monitoring'],
  ['/playground', 'Playground'],
  ['/settings', 'Settings'],
] as const;

export function App() {
  const session = useSession();
  useLiveUpdates();
  const needsKey = session.data?.auth_enabled === true && session.data.role === null;
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Hangar</span>
        <nav aria-label="Pages">
          {PAGES.map(([path, label]) => (
            <NavLink key={path} to={path}>
              {label}
            </NavLink>
          ))}
        </nav>
        <span className="who" title="Signed in as (key · role · tenant)">
          {sessionLabel(session.data)}
        </span>
      </header>
      <main>
        {/* Pages wait for the session, so their first calls already carry the key (or learn that one is needed). */}
        {session.isPending ? (
          <p className="muted">Loading…</p>
        ) : needsKey ? (
          <KeyPrompt />
        ) : (
          <Routes>
            <Route path="/" element={<Navigate to="/models" replace />} />
            <Route path="/models" element={<ModelsPage />} />
            <Route path="/models/*" element={<ModelDetailPage />} />
            <Route path="/download" element={<DownloadPage />} />
            <Route path="/monitoring" element={<MonitoringPage />} />
            <Route path="/playground" element={<PlaygroundPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="*" element={<p>No such page.</p>} />
          </Routes>
        )}
      </main>
    </div>
  );
}
