// Log in with a workspace API key: the live feed checks it and names the workspace and its permissions.
import { useEffect, useRef, useState, type FormEvent } from 'react';

export function Login({
  onSubmit,
  error,
  connecting,
  retrying,
  onCancel,
}: {
  onSubmit: (key: string) => void;
  error?: string;
  connecting: boolean;
  retrying: boolean;
  onCancel: () => void;
}) {
  const [key, setKey] = useState('');
  const [invalid, setInvalid] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Log in · leadrelay';
    if (!connecting) input.current?.focus();
  }, [connecting, error]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const given = key.trim();
    if (!/^\S{8,}$/.test(given)) {
      setInvalid('Paste the workspace API key (it starts with lr_).');
      input.current?.focus();
      return;
    }
    setInvalid(undefined);
    onSubmit(given);
  };

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} noValidate aria-describedby="login-help">
        <h1>leadrelay</h1>
        <p id="login-help" className="muted">
          Log in with your workspace API key. It stays in this browser tab only and is sent to this server's
          API, nowhere else.
        </p>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <input
            id="api-key"
            ref={input}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(event) => setKey(event.target.value)}
            aria-invalid={invalid ? true : undefined}
            aria-describedby={invalid ? 'api-key-error' : undefined}
            disabled={connecting}
          />
          {invalid ? (
            <p id="api-key-error" className="field-error">
              {invalid}
            </p>
          ) : null}
        </div>
        {connecting ? (
          <div className="state state-loading" role="status" aria-live="polite">
            <span className="spinner" aria-hidden="true" />
            {retrying ? 'The server is not answering; still trying…' : 'Checking the key…'}
            <button type="button" className="button small ghost" onClick={onCancel}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="submit" className="button primary">
            Log in
          </button>
        )}
      </form>
    </main>
  );
}
