// The dashboard shell: login, navigation, the live-feed indicator and the page for the current path.
import { useEffect, useState } from 'react';
import { count } from './format';
import { Link, match, useLocation } from './router';
import { SessionProvider, useSession } from './session';
import { Login } from './pages/Login';
import { Overview } from './pages/Overview';
import { Funnel } from './pages/Funnel';
import { Timeline } from './pages/Timeline';
import { Leads } from './pages/Leads';
import { LeadDetail } from './pages/LeadDetail';
import { Notifications } from './pages/Notifications';
import { Rules } from './pages/Rules';
import { Integrations } from './pages/Integrations';
import { IntegrationSetup } from './pages/IntegrationSetup';
import { IntegrationDetail } from './pages/IntegrationDetail';
import { Imports } from './pages/Imports';
import { ImportDetail } from './pages/ImportDetail';
import { Sequences } from './pages/Sequences';
import { SequenceDetail } from './pages/SequenceDetail';
import { Properties } from './pages/Properties';
import { PropertyDetail } from './pages/PropertyDetail';
import { Empty, PageHeader } from './ui';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/funnel', label: 'Funnel' },
  { to: '/timeline', label: 'Timeline' },
  { to: '/leads', label: 'Leads' },
  { to: '/notifications', label: 'Notifications' },
  { to: '/rules', label: 'Rules' },
  { to: '/sequences', label: 'Sequences' },
  { to: '/properties', label: 'Properties' },
  { to: '/integrations', label: 'Integrations' },
  { to: '/imports', label: 'Imports' },
];

function Page({ path }: { path: string }) {
  let params: Record<string, string> | undefined;
  if (path === '/' || path === '') return <Overview />;
  if (match('/funnel', path)) return <Funnel />;
  if (match('/timeline', path)) return <Timeline />;
  if (match('/leads', path)) return <Leads />;
  if ((params = match('/leads/:id', path))) return <LeadDetail key={params.id} id={params.id!} />;
  if (match('/notifications', path)) return <Notifications />;
  if (match('/rules', path)) return <Rules />;
  if (match('/sequences', path)) return <Sequences />;
  if ((params = match('/sequences/:id', path))) return <SequenceDetail key={params.id} id={params.id!} />;
  if (match('/properties', path)) return <Properties />;
  if ((params = match('/properties/:id', path))) return <PropertyDetail key={params.id} id={params.id!} />;
  if (match('/integrations', path)) return <Integrations />;
  if ((params = match('/integrations/new/:partner', path)))
    return <IntegrationSetup key={params.partner} partner={params.partner!} />;
  if ((params = match('/integrations/:id', path)))
    return <IntegrationDetail key={params.id} id={params.id!} />;
  if (match('/imports', path)) return <Imports />;
  if ((params = match('/imports/:id', path))) return <ImportDetail key={params.id} id={params.id!} />;
  return (
    <>
      <PageHeader title="Not found" />
      <Empty title="There is no such page.">
        <Link to="/">Back to the overview</Link>
      </Empty>
    </>
  );
}

function isActive(to: string, path: string): boolean {
  return to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`);
}

function Shell() {
  const session = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const live = session.feedState === 'live';

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          leadrelay
        </Link>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? 'open' : undefined}>
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={isActive(item.to, path) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          <span
            className={`live-indicator ${live ? 'on' : 'off'}`}
            role="status"
            aria-live="polite"
            data-testid="feed-state"
            data-state={session.feedState}
          >
            <span className="dot" aria-hidden="true" />
            {live ? 'Live' : session.feedState === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
          </span>
          <span className="workspace" title="Workspace">
            {session.workspaceId}
          </span>
          <span
            className="key-label"
            title="Signed in with this API key: your changes are recorded under its label"
          >
            {session.keyLabel}
          </span>
          <button type="button" className="button small ghost" onClick={session.logout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
      <footer className="footer muted">
        <span>Live feed, analytics and actions use the public API with your key.</span>
        {session.rateLimit ? (
          <span data-testid="rate-limit">
            API requests left this hour: {count(session.rateLimit.remaining)} of{' '}
            {count(session.rateLimit.limit)}
          </span>
        ) : null}
      </footer>
    </div>
  );
}

export function App() {
  return (
    <SessionProvider login={(props) => <Login {...props} />}>
      <Shell />
    </SessionProvider>
  );
}
