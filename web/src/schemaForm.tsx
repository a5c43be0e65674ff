// Forms generated from an integration template's JSON Schema (config and credentials): the fields, the same
// checks the server makes (so mistakes show before a round trip), and the typed value to send.
import type { ReactNode } from 'react';
import { label } from './format';
import type { JsonSchema } from './types';

/** Raw input per field path (`config.base_url`): strings as typed, booleans for checkboxes. */
export type RawValues = Record<string, string | boolean>;
export type Errors = Record<string, string>;

/** The schema itself, or the non-null branch of a nullable (`anyOf: [X, {type: null}]`). */
export function effective(schema: JsonSchema): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const real = branches.find((b) => b.type !== 'null');
    if (real)
      return {
        ...real,
        description: schema.description ?? real.description,
        default: schema.default ?? real.default,
        title: schema.title ?? real.title,
      };
  }
  return schema;
}

function typeOf(schema: JsonSchema): string {
  const s = effective(schema);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (type) return type;
  if (s.enum) return typeof s.enum[0] === 'number' ? 'number' : 'string';
  if (s.properties) return 'object';
  return 'string';
}

const isSecretName = (name: string) => /secret|token|password|api_?key|private/i.test(name);

/** Field paths of a schema's leaves, with their schemas (objects with properties are walked into). */
export function fieldsOf(
  schema: JsonSchema | null | undefined,
  prefix: string,
): { path: string; name: string; schema: JsonSchema; required: boolean }[] {
  const out: { path: string; name: string; schema: JsonSchema; required: boolean }[] = [];
  const s = schema ? effective(schema) : undefined;
  for (const [name, child] of Object.entries(s?.properties ?? {})) {
    const c = effective(child);
    const path = `${prefix}.${name}`;
    const required = (s?.required ?? []).includes(name);
    if (typeOf(c) === 'object' && c.properties) {
      for (const nested of fieldsOf(c, path)) out.push({ ...nested, required: nested.required && required });
    } else out.push({ path, name, schema: c, required });
  }
  return out;
}

/** Initial raw values: the given values (when editing) or the schema's defaults. */
export function initialValues(
  schema: JsonSchema | null | undefined,
  prefix: string,
  given: Record<string, unknown> = {},
): RawValues {
  const raw: RawValues = {};
  for (const field of fieldsOf(schema, prefix)) {
    const keys = field.path.split('.').slice(1);
    let value: unknown = given;
    for (const key of keys)
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined) value = field.schema.default;
    const type = typeOf(field.schema);
    if (type === 'boolean') raw[field.path] = value === true;
    else if (value === undefined || value === null) raw[field.path] = '';
    else if (type === 'array' && Array.isArray(value) && value.every((v) => typeof v !== 'object'))
      raw[field.path] = value.join(', ');
    else if (typeof value === 'object') raw[field.path] = JSON.stringify(value, null, 2);
    else raw[field.path] = String(value);
  }
  return raw;
}

function checkString(value: string, s: JsonSchema): string | undefined {
  if (s.minLength !== undefined && value.length < s.minLength) return `At least ${s.minLength} characters.`;
  if (s.maxLength !== undefined && value.length > s.maxLength) return `At most ${s.maxLength} characters.`;
  if (s.enum && !s.enum.includes(value)) return `Pick one of: ${s.enum.join(', ')}.`;
  if (s.format === 'uri' || s.format === 'url') {
    try {
      const url = new URL(value);
      if (!/^https?:$/.test(url.protocol)) return 'Enter an http(s) URL.';
    } catch {
      return 'Enter a full URL, e.g. https://api.example.com.';
    }
  }
  if (s.format === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return 'Enter an email address.';
  if (s.pattern) {
    try {
      if (!new RegExp(s.pattern, 'u').test(value))
        return s.description ? `Not the expected form: ${s.description}` : 'Not the expected form.';
    } catch {
      // A pattern this browser cannot compile: the server still checks it.
    }
  }
  return undefined;
}

function checkNumber(value: number, s: JsonSchema, integer: boolean): string | undefined {
  if (!Number.isFinite(value)) return 'Enter a number.';
  if (integer && !Number.isInteger(value)) return 'Enter a whole number.';
  if (s.minimum !== undefined && value < s.minimum) return `At least ${s.minimum}.`;
  if (s.maximum !== undefined && value > s.maximum) return `At most ${s.maximum}.`;
  if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum)
    return `More than ${s.exclusiveMinimum}.`;
  if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum)
    return `Less than ${s.exclusiveMaximum}.`;
  return undefined;
}

/**
 * Checks the raw values against the schema and builds the typed object to send (empty optional fields left out).
 * `skipRequired` is for editing credentials: blank means "keep what is stored".
 */
export function collect(
  schema: JsonSchema | null | undefined,
  prefix: string,
  raw: RawValues,
  options: { skipRequired?: boolean } = {},
): { value: Record<string, unknown>; errors: Errors } {
  const value: Record<string, unknown> = {};
  const errors: Errors = {};
  for (const field of fieldsOf(schema, prefix)) {
    const input = raw[field.path];
    const type = typeOf(field.schema);
    let parsed: unknown;
    let error: string | undefined;
    if (type === 'boolean') parsed = input === true;
    else {
      const text = typeof input === 'string' ? input.trim() : '';
      if (text === '') {
        if (field.required && !options.skipRequired) errors[field.path] = 'Required.';
        continue;
      }
      if (type === 'number' || type === 'integer') {
        parsed = Number(text);
        error = checkNumber(parsed as number, field.schema, type === 'integer');
      } else if (type === 'array') {
        const items = effective(field.schema.items ?? {});
        if (typeOf(items) === 'object') {
          try {
            parsed = JSON.parse(text);
            if (!Array.isArray(parsed)) error = 'Enter a JSON list.';
          } catch {
            error = 'Not valid JSON.';
          }
        } else {
          const list = text
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean);
          const numeric = ['number', 'integer'].includes(typeOf(items));
          parsed = numeric ? list.map(Number) : list;
          for (const item of parsed as (string | number)[]) {
            error ??=
              typeof item === 'number'
                ? checkNumber(item, items, typeOf(items) === 'integer')
                : checkString(item, items);
          }
          if (field.schema.minItems !== undefined && list.length < field.schema.minItems)
            error ??= `At least ${field.schema.minItems} items.`;
        }
      } else if (type === 'object') {
        try {
          parsed = JSON.parse(text);
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) error = 'Enter a JSON object.';
        } catch {
          error = 'Not valid JSON.';
        }
      } else {
        parsed = text;
        error = checkString(text, field.schema);
      }
    }
    if (error) {
      errors[field.path] = error;
      continue;
    }
    // Into the nested object at the field's path.
    const keys = field.path.split('.').slice(1);
    let target = value;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys[keys.length - 1]!] = parsed;
  }
  return { value, errors };
}

interface FieldProps {
  values: RawValues;
  errors: Errors;
  onChange: (path: string, value: string | boolean) => void;
  /** Credentials: never shown back, typed in password fields. */
  secret?: boolean;
  /** Editing: something is stored already, so blank keeps it. */
  storedSecrets?: boolean;
  disabled?: boolean;
}

function Leaf({
  path,
  name,
  schema: s,
  required,
  values,
  errors,
  onChange,
  secret = false,
  storedSecrets = false,
  disabled = false,
}: FieldProps & { path: string; name: string; schema: JsonSchema; required: boolean }) {
  const id = `field-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
  const type = typeOf(s);
  const error = errors[path];
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const keep = secret && storedSecrets;
  const describedBy =
    [s.description || keep ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: path,
    disabled,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': required && !keep ? true : undefined,
  };
  const raw = values[path];
  const text = typeof raw === 'string' ? raw : '';
  let control: ReactNode;
  if (type === 'boolean') {
    control = (
      <input
        {...common}
        type="checkbox"
        checked={raw === true}
        onChange={(event) => onChange(path, event.target.checked)}
      />
    );
  } else if (s.enum && type !== 'array') {
    control = (
      <select {...common} value={text} onChange={(event) => onChange(path, event.target.value)}>
        <option value="">{required ? 'Choose…' : '—'}</option>
        {s.enum.map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else if (type === 'object' || (type === 'array' && typeOf(effective(s.items ?? {})) === 'object')) {
    control = (
      <textarea
        {...common}
        rows={3}
        spellCheck={false}
        value={text}
        placeholder={type === 'object' ? '{ "key": "value" } (JSON)' : '[ … ] (JSON)'}
        onChange={(event) => onChange(path, event.target.value)}
      />
    );
  } else {
    const secretField = secret || s.writeOnly === true || isSecretName(name);
    control = (
      <input
        {...common}
        type={
          secretField
            ? 'password'
            : type === 'number' || type === 'integer'
              ? 'number'
              : s.format === 'uri' || s.format === 'url'
                ? 'url'
                : s.format === 'email'
                  ? 'email'
                  : 'text'
        }
        inputMode={type === 'integer' ? 'numeric' : type === 'number' ? 'decimal' : undefined}
        step={type === 'integer' ? 1 : type === 'number' ? 'any' : undefined}
        autoComplete={secretField ? 'new-password' : 'off'}
        spellCheck={false}
        value={text}
        placeholder={
          keep
            ? '•••••• stored — leave blank to keep'
            : type === 'array'
              ? 'comma-separated'
              : s.examples?.[0] !== undefined
                ? String(s.examples[0])
                : undefined
        }
        onChange={(event) => onChange(path, event.target.value)}
      />
    );
  }
  return (
    <div className={`field${type === 'boolean' ? ' checkbox' : ''}`} data-field={path}>
      <label htmlFor={id}>
        {s.title ?? label(name)}
        {required && !keep ? <span className="required"> (required)</span> : null}
      </label>
      {control}
      {s.description || keep ? (
        <p id={hintId} className="hint">
          {s.description}
          {keep ? ' Write-only: the stored value is never shown; type a new one to replace it.' : ''}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * The fields of an object schema; a nested object with properties is its own group, folded away unless it
 * holds a required field or an error.
 */
export function SchemaFields({
  schema,
  prefix,
  ...props
}: FieldProps & { schema: JsonSchema | null | undefined; prefix: string }): ReactNode {
  const s = schema ? effective(schema) : undefined;
  return Object.entries(s?.properties ?? {}).map(([name, child]) => {
    const c = effective(child);
    const path = `${prefix}.${name}`;
    const required = (s?.required ?? []).includes(name);
    if (typeOf(c) === 'object' && c.properties) {
      const open =
        (c.required ?? []).length > 0 || Object.keys(props.errors).some((key) => key.startsWith(`${path}.`));
      return (
        <details key={path} className="field-group" open={open || undefined}>
          <summary>
            {c.title ?? label(name)}
            {c.description ? <span className="muted small"> — {c.description}</span> : null}
          </summary>
          <SchemaFields schema={c} prefix={path} {...props} />
        </details>
      );
    }
    return <Leaf key={path} path={path} name={name} schema={c} required={required} {...props} />;
  });
}
