// Pieces the integrations pages share: badges for setup status and health, the generated setup/edit form.
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { collect, initialValues, SchemaFields, type Errors, type RawValues } from '../schemaForm';
import { useResource } from '../hooks';
import { useSession } from '../session';
import type { ConnectionTest, Integration, IntegrationTemplate, Property } from '../types';
import { Badge, errorMessage } from '../ui';

export const SETUP_TONE = { not_configured: 'muted', active: 'good', paused: 'warn', error: 'bad' } as const;
export const HEALTH_TONE = { healthy: 'good', degraded: 'warn', failing: 'bad', idle: 'muted' } as const;

export function SetupBadge({ status }: { status: IntegrationTemplate['setup_status'] }) {
  return <Badge tone={SETUP_TONE[status] ?? 'muted'}>{status.replace('_', ' ')}</Badge>;
}

export function HealthBadge({ integration }: { integration: Integration }) {
  const status = integration.health?.status;
  if (!status)
    return <Badge tone={integration.status === 'active' ? 'good' : 'muted'}>{integration.status}</Badge>;
  return <Badge tone={HEALTH_TONE[status] ?? 'muted'}>{status}</Badge>;
}

export function TestResult({ result }: { result: ConnectionTest }) {
  return result.ok ? (
    <p className="form-success" role="status" data-testid="test-result">
      Connection works{result.latency_ms !== undefined ? ` (${result.latency_ms} ms)` : ''}
      {result.detail ? `: ${result.detail}` : '.'}
    </p>
  ) : (
    <p className="form-error" role="alert" data-testid="test-result">
      Connection failed: {result.error.message}
      {result.error.partner_status ? ` (partner answered ${result.error.partner_status})` : ''}
    </p>
  );
}

export interface SubmitBody {
  partner: string;
  name: string;
  property_id?: string;
  config: Record<string, unknown>;
  credentials?: Record<string, string>;
}

/**
 * The setup (create) or edit form: name, property, the template's config fields and its write-only credentials.
 * Checks on the client first; server field errors (`config.base_url`) land on the same fields.
 */
export function IntegrationForm({
  template,
  integration,
  onSubmit,
  onTest,
  submitLabel,
}: {
  template: IntegrationTemplate;
  integration?: Integration;
  onSubmit: (body: SubmitBody) => Promise<void>;
  onTest?: (body: SubmitBody) => Promise<ConnectionTest>;
  submitLabel: string;
}) {
  const { api } = useSession();
  const editing = Boolean(integration);
  const properties = useResource(() => api.cached<{ properties: Property[] }>('/properties'), []);
  const [name, setName] = useState(integration?.name ?? template.name);
  const [propertyId, setPropertyId] = useState(integration?.property_id ?? '');
  const [values, setValues] = useState<RawValues>(() => ({
    ...initialValues(template.config_schema, 'config', integration?.config ?? {}),
    ...initialValues(template.credentials_schema, 'credentials', {}),
  }));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState<'test' | 'save'>();
  const [tested, setTested] = useState<ConnectionTest>();

  const change = (path: string, value: string | boolean) => {
    setValues((current) => ({ ...current, [path]: value }));
    setErrors((current) => {
      if (!current[path]) return current;
      const { [path]: _gone, ...rest } = current;
      return rest;
    });
  };

  /** The body, or undefined after marking the fields at fault and focusing the first. */
  const build = (): SubmitBody | undefined => {
    const config = collect(template.config_schema, 'config', values);
    const anyCredential = Object.entries(values).some(
      ([path, v]) => path.startsWith('credentials.') && v !== '' && v !== false,
    );
    // Editing: blank credentials keep the stored ones; typing any replaces the whole set, so all required apply.
    const credentials = collect(template.credentials_schema, 'credentials', values, {
      skipRequired: editing && !anyCredential,
    });
    const found: Errors = { ...config.errors, ...credentials.errors };
    if (!name.trim()) found.name = 'Required.';
    else if (name.trim().length > 200) found.name = 'At most 200 characters.';
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setFormError('Some fields need attention.');
      const first = Object.keys(found)[0]!;
      document
        .getElementById(
          first === 'name' ? 'integration-name' : `field-${first.replace(/[^A-Za-z0-9]+/g, '-')}`,
        )
        ?.focus();
      return undefined;
    }
    setFormError(undefined);
    const body: SubmitBody = { partner: template.partner, name: name.trim(), config: config.value };
    if (propertyId) body.property_id = propertyId;
    const creds = Object.fromEntries(Object.entries(credentials.value).map(([k, v]) => [k, String(v)]));
    // Creating: whatever was typed. Editing: only when something was typed (it replaces the stored set).
    if (Object.keys(creds).length > 0 && (!editing || anyCredential)) body.credentials = creds;
    return body;
  };

  const serverErrors = (error: unknown) => {
    if (error instanceof ApiError && error.fields.length > 0) {
      const found: Errors = {};
      for (const f of error.fields) found[f.field === 'name' ? 'name' : f.field] = f.message;
      setErrors(found);
      setFormError(`The server refused some fields: ${error.fields.map((f) => f.field).join(', ')}.`);
      const first = error.fields[0]!.field;
      document
        .getElementById(
          first === 'name' ? 'integration-name' : `field-${first.replace(/[^A-Za-z0-9]+/g, '-')}`,
        )
        ?.focus();
    } else setFormError(errorMessage(error));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = build();
    if (!body) return;
    setBusy('save');
    try {
      await onSubmit(body);
    } catch (error) {
      serverErrors(error);
    } finally {
      setBusy(undefined);
    }
  };

  const test = async () => {
    const body = build();
    if (!body || !onTest) return;
    setBusy('test');
    setTested(undefined);
    try {
      setTested(await onTest(body));
    } catch (error) {
      serverErrors(error);
    } finally {
      setBusy(undefined);
    }
  };

  const hasCredentials = Object.keys(template.credentials_schema?.properties ?? {}).length > 0;
  return (
    <form
      className="setup-form"
      onSubmit={(event) => void submit(event)}
      noValidate
      aria-label={`${template.name} settings`}
      data-testid="integration-form"
    >
      {formError ? (
        <p className="form-error" role="alert" data-testid="form-error">
          {formError}
        </p>
      ) : null}
      <fieldset>
        <legend>Connection</legend>
        <div className="field" data-field="name">
          <label htmlFor="integration-name">
            Name<span className="required"> (required)</span>
          </label>
          <input
            id="integration-name"
            value={name}
            aria-required
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? 'integration-name-error' : undefined}
            onChange={(event) => {
              setName(event.target.value);
              setErrors(({ name: _gone, ...rest }) => rest);
            }}
          />
          {errors.name ? (
            <p id="integration-name-error" className="field-error">
              {errors.name}
            </p>
          ) : null}
        </div>
        <div className="field" data-field="property_id">
          <label htmlFor="integration-property">Property</label>
          <select
            id="integration-property"
            value={propertyId}
            onChange={(event) => setPropertyId(event.target.value)}
            aria-invalid={errors.property_id ? true : undefined}
          >
            <option value="">Whole workspace</option>
            {(properties.data?.properties ?? []).map((p) => (
              <option key={p.property_id} value={p.property_id}>
                {p.name}
              </option>
            ))}
          </select>
          {errors.property_id ? <p className="field-error">{errors.property_id}</p> : null}
        </div>
      </fieldset>
      {Object.keys(template.config_schema?.properties ?? {}).length > 0 ? (
        <fieldset>
          <legend>Settings</legend>
          <SchemaFields
            schema={template.config_schema}
            prefix="config"
            values={values}
            errors={errors}
            onChange={change}
          />
        </fieldset>
      ) : null}
      {hasCredentials ? (
        <fieldset>
          <legend>Credentials</legend>
          <p className="hint">Stored encrypted and never shown again, not even to you.</p>
          <SchemaFields
            schema={template.credentials_schema}
            prefix="credentials"
            values={values}
            errors={errors}
            onChange={change}
            secret
            storedSecrets={Boolean(integration?.has_credentials)}
          />
        </fieldset>
      ) : null}
      {tested ? <TestResult result={tested} /> : null}
      <div className="form-actions">
        {onTest && template.capabilities.test_connection ? (
          <button type="button" className="button" onClick={() => void test()} disabled={busy !== undefined}>
            {busy === 'test' ? 'Testing…' : 'Test connection'}
          </button>
        ) : null}
        <button type="submit" className="button primary" disabled={busy !== undefined}>
          {busy === 'save' ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
