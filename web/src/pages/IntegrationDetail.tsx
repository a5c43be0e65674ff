// One integration: health and last sync, test connection, sync now, pause or resume, edit (credentials
// write-only), delete.
import { useState } from 'react';
import { count, dateTime, label, relative } from '../format';
import { useNow, useResource } from '../hooks';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import type { ConnectionTest, Integration, IntegrationTemplate } from '../types';
import { Badge, ErrorState, errorMessage, Loaded, PageHeader, Section } from '../ui';
import { HealthBadge, IntegrationForm, TestResult, type SubmitBody } from './integrationParts';

export function IntegrationDetail({ id }: { id: string }) {
  const { api, can } = useSession();
  const now = useNow();
  const integration = useResource(
    (signal) => api.get<Integration>(`/integrations/${encodeURIComponent(id)}`, {}, signal),
    [id],
  );
  const partner = integration.data?.partner;
  const template = useResource(
    (signal) =>
      partner
        ? api.get<IntegrationTemplate>(`/integration-templates/${encodeURIComponent(partner)}`, {}, signal)
        : new Promise<IntegrationTemplate>(() => undefined),
    [partner],
  );
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [failure, setFailure] = useState<unknown>();
  const [tested, setTested] = useState<ConnectionTest>();
  const admin = can('admin');

  const act = async (name: string, work: () => Promise<void>) => {
    setBusy(name);
    setFailure(undefined);
    setNotice(undefined);
    try {
      await work();
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(undefined);
    }
  };

  if (integration.data === undefined) {
    return (
      <>
        <PageHeader title="Integration" actions={<Link to="/integrations">All integrations</Link>} />
        <Loaded resource={integration}>{() => null}</Loaded>
      </>
    );
  }
  const data = integration.data;
  const health = data.health;
  const paused = data.status === 'paused';

  const save = async (body: SubmitBody) => {
    const { partner: _partner, ...changes } = body;
    await api.request<Integration>(`/integrations/${data.id}`, { method: 'PATCH', body: changes });
    setEditing(false);
    setNotice('Saved.');
    integration.reload();
  };

  return (
    <>
      <PageHeader
        title={data.name}
        subtitle={
          <>
            {template.data?.name ?? label(data.partner)} ·{' '}
            <Badge tone={paused ? 'warn' : data.status === 'active' ? 'good' : 'bad'}>{data.status}</Badge>
          </>
        }
        actions={<Link to="/integrations">All integrations</Link>}
      />
      {failure ? <ErrorState error={failure} /> : null}
      {notice ? (
        <p className="form-success" role="status">
          {notice}
        </p>
      ) : null}
      <div className="grid-2">
        <Section title="Health">
          <dl className="details" data-testid="integration-health">
            <div>
              <dt>Health</dt>
              <dd>
                <HealthBadge integration={data} />
              </dd>
            </div>
            <div>
              <dt>Last sync</dt>
              <dd>
                {(health?.last_sync_at ?? data.last_sync_at)
                  ? `${relative(health?.last_sync_at ?? data.last_sync_at, now)} (${dateTime(health?.last_sync_at ?? data.last_sync_at)})`
                  : 'never'}
              </dd>
            </div>
            <div>
              <dt>Last success</dt>
              <dd>{health?.last_success_at ? dateTime(health.last_success_at) : '—'}</dd>
            </div>
            <div>
              <dt>Last error</dt>
              <dd className="break">{health?.last_error ?? data.last_error ?? '—'}</dd>
            </div>
            {health?.counts ? (
              <div>
                <dt>Pushes, last 24 h</dt>
                <dd>
                  {Object.entries(health.counts)
                    .map(([outcome, n]) => `${count(n)} ${outcome}`)
                    .join(' · ') || 'none'}
                </dd>
              </div>
            ) : null}
          </dl>
        </Section>
        <Section title="Connection">
          <dl className="details">
            <div>
              <dt>Webhook URL</dt>
              <dd className="mono small break">{data.webhook_url ?? '— (this partner sends no webhooks)'}</dd>
            </div>
            <div>
              <dt>Webhook secret</dt>
              <dd>{data.has_webhook_secret ? 'stored (write-only)' : '—'}</dd>
            </div>
            <div>
              <dt>Credentials</dt>
              <dd>{data.has_credentials ? 'stored (write-only)' : 'none'}</dd>
            </div>
            <div>
              <dt>Property</dt>
              <dd>{data.property_id ?? 'whole workspace'}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{dateTime(data.created_at)}</dd>
            </div>
          </dl>
        </Section>
      </div>
      <Section title="Actions">
        {tested ? <TestResult result={tested} /> : null}
        <div className="form-actions wrap">
          {template.data?.capabilities.test_connection ? (
            <button
              type="button"
              className="button"
              disabled={busy !== undefined}
              onClick={() =>
                void act('test', async () => {
                  setTested(
                    await api.request<ConnectionTest>(`/integrations/${data.id}/test`, { method: 'POST' }),
                  );
                  integration.reload();
                })
              }
            >
              {busy === 'test' ? 'Testing…' : 'Test connection'}
            </button>
          ) : null}
          {template.data?.capabilities.polling ? (
            <button
              type="button"
              className="button"
              disabled={busy !== undefined || paused}
              onClick={() =>
                void act('sync', async () => {
                  await api.request(`/integrations/${data.id}/sync`, { method: 'POST' });
                  setNotice('Sync started; the last sync time updates when it finishes.');
                })
              }
            >
              {busy === 'sync' ? 'Starting…' : 'Sync now'}
            </button>
          ) : null}
          {admin ? (
            <>
              <button
                type="button"
                className="button"
                disabled={busy !== undefined}
                onClick={() =>
                  void act('status', async () => {
                    await api.request(`/integrations/${data.id}`, {
                      method: 'PATCH',
                      body: { status: paused ? 'active' : 'paused' },
                    });
                    setNotice(paused ? 'Resumed.' : 'Paused: webhooks and pushes stop until you resume.');
                    integration.reload();
                  })
                }
              >
                {paused ? 'Resume' : 'Deactivate (pause)'}
              </button>
              <button
                type="button"
                className="button"
                aria-expanded={editing}
                onClick={() => setEditing((e) => !e)}
              >
                {editing ? 'Close editor' : 'Edit'}
              </button>
              <button
                type="button"
                className="button danger"
                onClick={() => setConfirmDelete(true)}
                disabled={confirmDelete}
              >
                Delete
              </button>
            </>
          ) : (
            <span className="muted">Editing needs the admin permission.</span>
          )}
        </div>
        {confirmDelete ? (
          <div
            className="confirm"
            role="alertdialog"
            aria-labelledby="confirm-delete-title"
            aria-describedby="confirm-delete-text"
          >
            <p id="confirm-delete-title">
              <strong>Delete {data.name}?</strong>
            </p>
            <p id="confirm-delete-text">
              Its webhooks stop working at once (they answer 404) and pushes to {label(data.partner)} stop.
            </p>
            <div className="form-actions">
              <button
                type="button"
                className="button danger"
                autoFocus
                onClick={() =>
                  void act('delete', async () => {
                    await api.request(`/integrations/${data.id}`, { method: 'DELETE' });
                    navigate('/integrations');
                  })
                }
              >
                {busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
              </button>
              <button type="button" className="button ghost" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </div>
          </div>
        ) : null}
      </Section>
      {editing ? (
        <Section title="Edit">
          {template.error ? <p className="form-error">{errorMessage(template.error)}</p> : null}
          <Loaded resource={template}>
            {(t) => (
              <IntegrationForm template={t} integration={data} onSubmit={save} submitLabel="Save changes" />
            )}
          </Loaded>
        </Section>
      ) : null}
    </>
  );
}
