// Seed 003's setup flow: the form generated from the template, test before saving, then the webhook URL and
// the secret, shown this once.
import { useState } from 'react';
import { useResource } from '../hooks';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import type { ConnectionTest, IntegrationCreated, IntegrationTemplate } from '../types';
import { Empty, Loaded, PageHeader, Section } from '../ui';
import { IntegrationForm, type SubmitBody } from './integrationParts';

function Copyable({ label: name, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copyable">
      <span className="copy-label">{name}</span>
      <code data-testid={testId}>{value}</code>
      <button
        type="button"
        className="button small"
        onClick={() =>
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : `Copy ${name.toLowerCase()}`}
      </button>
    </div>
  );
}

function Created({ created, template }: { created: IntegrationCreated; template: IntegrationTemplate }) {
  return (
    <Section title="Connected">
      <div role="status" data-testid="integration-created">
        <p>
          <strong>{created.name}</strong> is set up ({created.status}).
        </p>
        {created.webhook_url ? (
          <Copyable label="Webhook URL" value={created.webhook_url} testId="webhook-url" />
        ) : null}
        {created.webhook_secret ? (
          <>
            <Copyable label="Webhook secret" value={created.webhook_secret} testId="webhook-secret" />
            <p className="form-error">
              Copy the secret now and give it to {template.name}: it is shown only this once.
            </p>
          </>
        ) : null}
        <p>
          <Link to={`/integrations/${created.id}`} className="button primary">
            Go to the integration
          </Link>{' '}
          <Link to="/integrations">Back to integrations</Link>
        </p>
      </div>
    </Section>
  );
}

export function IntegrationSetup({ partner }: { partner: string }) {
  const { api, can } = useSession();
  const template = useResource(
    (signal) =>
      api.get<IntegrationTemplate>(`/integration-templates/${encodeURIComponent(partner)}`, {}, signal),
    [partner],
  );
  const [created, setCreated] = useState<IntegrationCreated>();

  const save = async (body: SubmitBody) => {
    setCreated(await api.request<IntegrationCreated>('/integrations', { method: 'POST', body }));
  };
  const test = (body: SubmitBody) =>
    api.request<ConnectionTest>('/integrations/test', { method: 'POST', body });

  return (
    <>
      <PageHeader
        title={template.data ? `Set up ${template.data.name}` : 'Set up an integration'}
        subtitle={template.data?.description}
        actions={<Link to="/integrations">All integrations</Link>}
      />
      {!can('admin') ? (
        <Empty title="Setting up integrations needs an API key with the admin permission." />
      ) : null}
      <Loaded resource={template}>
        {(t) =>
          created ? (
            <Created created={created} template={t} />
          ) : (
            <Section title="Settings">
              <IntegrationForm template={t} onSubmit={save} onTest={test} submitLabel="Save and activate" />
            </Section>
          )
        }
      </Loaded>
      {created ? null : (
        <p className="muted small">
          <button type="button" className="link-button" onClick={() => navigate('/integrations')}>
            Cancel
          </button>
        </p>
      )}
    </>
  );
}
