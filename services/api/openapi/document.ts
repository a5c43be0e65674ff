// Builds the OpenAPI 3.1 document from the routes the app mounted: every schema is a zod schema turned into
// JSON Schema by zod's own z.toJSONSchema (OpenAPI 3.1 schemas are JSON Schema 2020-12).
import { z } from 'zod';
import type { Auth, Endpoint } from '../../common/endpoints';
import { ErrorBody } from '../schemas';
import { XLSX_TYPE } from '../xlsx';

type JsonSchema = Record<string, unknown>;

const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

class SchemaSet {
  readonly components: Record<string, JsonSchema> = {};

  /** The schema as JSON Schema; named (`.meta({ id })`) parts become shared components. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      // zod adds a long regex beside every `format`; the format says it all to a reader.
      override: (ctx) => {
        const node = ctx.jsonSchema as JsonSchema;
        if (node.format && node.pattern) delete node.pattern;
      },
    }) as JsonSchema;
    const { $schema: _schema, $defs, ...rest } = json;
    const rewrite = (value: JsonSchema) =>
      JSON.parse(JSON.stringify(value).split(`"${DEFS}`).join(`"${COMPONENTS}`)) as JsonSchema;
    for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      this.components[name] ??= rewrite(def);
    }
    return rewrite(rest);
  }
}

const PERMISSION_NOTE: Record<Auth, string> = {
  api_key: 'API key',
  admin_token: 'admin token (LEADRELAY_ADMIN_TOKEN)',
  admin_token_or_key: 'admin token, or an API key with the admin permission',
  none: 'none',
};

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': { description: 'Requests allowed per window.', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in this window.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
  'RateLimit-Policy': { description: 'The policy, e.g. `1000;w=3600`.', schema: { type: 'string' } },
};

export function buildDocument(
  operations: readonly Endpoint[],
  info: { version: string },
): Record<string, unknown> {
  const schemas = new SchemaSet();
  const error = schemas.convert(ErrorBody, 'output');
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: error } },
  });
  const paths: Record<string, Record<string, unknown>> = {};

  for (const op of operations) {
    const parameters: unknown[] = [];
    const named = op.params
      ? (schemas.convert(op.params, 'input').properties as Record<string, JsonSchema>)
      : {};
    for (const [, name] of op.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
      parameters.push({ name, in: 'path', required: true, schema: named[name!] ?? { type: 'string' } });
    }
    if (op.query) {
      const query = schemas.convert(op.query, 'input');
      const required = new Set((query.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
        parameters.push({
          name,
          in: 'query',
          required: required.has(name) && (schema as JsonSchema).default === undefined,
          ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
          schema,
        });
      }
    }
    for (const header of op.headers ?? []) {
      parameters.push({
        name: header.name,
        in: 'header',
        required: false,
        description: header.description,
        schema: { type: 'string' },
      });
    }

    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(op.responses)) {
      const content: Record<string, unknown> = {};
      if (spec.html) content['text/html'] = { schema: { type: 'string' } };
      else if (spec.schema) content['application/json'] = { schema: schemas.convert(spec.schema, 'output') };
      if (spec.csv) content['text/csv'] = { schema: { type: 'string' } };
      if (spec.xlsx) content[XLSX_TYPE] = { schema: { type: 'string', format: 'binary' } };
      responses[status] = {
        description: spec.description,
        ...(Object.keys(content).length ? { content } : {}),
        ...(op.auth === 'api_key' ? { headers: RATE_LIMIT_HEADERS } : {}),
      };
    }
    if (op.body || op.query || op.upload)
      responses['400'] ??= errorResponse('Invalid request: `details.fields` names each bad field.');
    if (op.auth !== 'none') responses['401'] ??= errorResponse('Missing or invalid credentials.');
    if (op.permission)
      responses['403'] ??= errorResponse(`The API key lacks the \`${op.permission}\` permission.`);
    if (op.path.includes(':')) responses['404'] ??= errorResponse('Not found in this workspace.');
    if (op.auth === 'api_key') {
      responses['429'] ??= {
        ...errorResponse('Rate limit reached; see Retry-After.'),
        headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } },
      };
    }

    const security =
      op.auth === 'none'
        ? []
        : op.auth === 'api_key'
          ? [{ apiKey: [] }]
          : op.auth === 'admin_token'
            ? [{ adminToken: [] }]
            : [{ adminToken: [] }, { apiKey: [] }];
    const path = toOpenApiPath(op.path);
    paths[path] ??= {};
    paths[path][op.method] = {
      tags: [op.tag],
      summary: op.summary,
      description: [
        op.description,
        `Auth: ${PERMISSION_NOTE[op.auth]}${op.permission ? `, permission \`${op.permission}\`` : ''}.`,
      ]
        .filter(Boolean)
        .join('\n\n'),
      operationId: `${op.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => (c ? c.toUpperCase() : ''))}`,
      security,
      ...(op.permission ? { 'x-permission': op.permission } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body || op.upload
        ? {
            requestBody: {
              required: !op.bodyOptional,
              content: {
                ...(op.upload
                  ? {
                      [op.upload.contentType]: {
                        schema: { type: 'string', description: op.upload.description },
                      },
                    }
                  : {}),
                ...(op.body ? { 'application/json': { schema: schemas.convert(op.body, 'input') } } : {}),
              },
            },
          }
        : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'leadrelay API',
      version: info.version,
      description:
        'Every sales lead’s journey as one durable Temporal workflow. JSON under /api/v1 with ' +
        '`Authorization: Bearer <api key>`; every error is `{ "error": { "code", "message", "details" } }`. ' +
        'Each workspace has a rate limit (default 1000 requests per hour) reported in RateLimit headers; ' +
        'requests with `X-Leadrelay-Client: dashboard` (the staff app) have a budget of their own.',
    },
    tags: [...new Set(operations.map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: schemas.components,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A workspace API key (`lr_…`).' },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The operator token LEADRELAY_ADMIN_TOKEN.',
        },
      },
    },
  };
}
