// Seed 003's integrations admin: the template grid with each partner's setup status, and the configured
// integrations with their health and last sync.
import { dateTime, label, relative } from '../format';
import { useNow, useResource } from '../hooks';
import { Link } from '../router';
import { useSession } from '../session';
import type { Integration, IntegrationTemplate } from '../types';
import { Badge, Empty, ErrorState, Loaded, PageHeader, Section, DataTable } from '../ui';
import { HealthBadge, SetupBadge } from './integrationParts';

const CAPABILITIES: [keyof IntegrationTemplate['capabilities'], string][] = [
  ['webhooks', 'Webhooks in'],
  ['push_status', 'Status push'],
  ['polling', 'Polling'],
  ['test_connection', 'Connection test'],
];

/** When the integration last synced: its health report's figure, else the row's own. */
function lastSyncOf(integration: Integration): string | null | undefined {
  return integration.health?.last_sync_at ?? integration.last_sync_at;
}

function TemplateCard({ template, canSetUp }: { template: IntegrationTemplate; canSetUp: boolean }) {
  const titleId = `template-${template.partner}`;
  return (
    <li
      className="template-card card"
      aria-labelledby={titleId}
      data-partner={template.partner}
      data-testid="template-card"
    >
      <div className="template-head">
        <h3 id={titleId}>{template.name}</h3>
        <SetupBadge status={template.setup_status} />
      </div>
      <p className="muted small">{label(template.category)}</p>
      <p>{template.description}</p>
      <ul className="tags" aria-label="Capabilities">
        {CAPABILITIES.filter(([key]) => template.capabilities[key]).map(([key, text]) => (
          <li key={key} className="tag">
            {text}
          </li>
        ))}
      </ul>
      <div className="template-foot">
        <span className="muted small">
          {template.integrations_count > 0 ? `${template.integrations_count} configured` : 'Not set up'}
        </span>
        {canSetUp ? (
          <Link
            to={`/integrations/new/${template.partner}`}
            className="button small primary"
            aria-label={`Set up ${template.name}`}
          >
            Set up
          </Link>
        ) : null}
      </div>
    </li>
  );
}

export function Integrations() {
  const { api, can } = useSession();
  const now = useNow();
  const templates = useResource(
    (signal) => api.get<{ templates: IntegrationTemplate[] }>('/integration-templates', {}, signal),
    [],
  );
  const integrations = useResource(
    (signal) => api.get<{ integrations: Integration[] }>('/integrations', {}, signal),
    [],
  );
  const names = new Map((templates.data?.templates ?? []).map((t) => [t.partner, t.name]));

  return (
    <>
      <PageHeader
        title="Integrations"
        subtitle="Connect referral partners, your PMS, CRM, scheduling and call tracking."
        actions={
          can('admin') ? null : <Badge tone="muted">Read only: setting up needs the admin permission</Badge>
        }
      />
      <Section title="Configured">
        <Loaded
          resource={integrations}
          isEmpty={(data) => data.integrations.length === 0}
          empty={<Empty title="No integrations yet.">Pick a partner below to connect it.</Empty>}
        >
          {(data) => (
            <DataTable
              label="Configured integrations"
              testId="integrations-table"
              rows={data.integrations}
              rowKey={(integration) => integration.id}
              rowProps={(integration) => ({ 'data-integration-id': integration.id })}
              columns={[
                {
                  header: 'Name',
                  rowHeader: true,
                  cell: (integration) => (
                    <Link to={`/integrations/${integration.id}`}>{integration.name}</Link>
                  ),
                },
                {
                  header: 'Partner',
                  cell: (integration) => names.get(integration.partner) ?? label(integration.partner),
                },
                {
                  header: 'Status',
                  cell: (integration) => (
                    <Badge
                      tone={
                        integration.status === 'active'
                          ? 'good'
                          : integration.status === 'paused'
                            ? 'warn'
                            : 'bad'
                      }
                    >
                      {integration.status}
                    </Badge>
                  ),
                },
                { header: 'Health', cell: (integration) => <HealthBadge integration={integration} /> },
                {
                  header: 'Last sync',
                  cell: (integration) => {
                    const lastSync = lastSyncOf(integration);
                    return lastSync ? relative(lastSync, now) : 'never';
                  },
                  cellProps: (integration) => ({ title: dateTime(lastSyncOf(integration)) }),
                },
                {
                  header: 'Last error',
                  cell: (integration) => integration.health?.last_error ?? integration.last_error ?? '—',
                  cellProps: () => ({ className: 'break' }),
                },
              ]}
            />
          )}
        </Loaded>
      </Section>
      <Section title="Available partners">
        {templates.error && !templates.data ? (
          <ErrorState error={templates.error} onRetry={templates.reload} />
        ) : (
          <Loaded
            resource={templates}
            isEmpty={(data) => data.templates.length === 0}
            empty={<Empty title="No templates." />}
          >
            {(data) => (
              <ul className="template-grid" aria-label="Integration templates">
                {data.templates.map((template) => (
                  <TemplateCard key={template.partner} template={template} canSetUp={can('admin')} />
                ))}
              </ul>
            )}
          </Loaded>
        )}
      </Section>
    </>
  );
}
