// The links inside prospect email, answered without an API key: the open pixel and the signed click redirect of
// sequence email; and the workspace's switch for tracking them.
import { z } from 'zod';
import {
  changeEmailSettings,
  emailSettings,
  PIXEL_GIF,
  trackClick,
  trackOpen,
  type EmailLinkDeps,
} from '../../../usecases/emailLinks';
import { AppError } from '../../../shared/errors';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';

const Token = z.object({ token: z.string().min(1).max(2000) });
const EmailSettings = z
  .object({ workspace_id: z.string(), email_tracking: z.boolean() })
  .meta({ id: 'EmailSettings' });

export function emailLinkEndpoints(deps: EmailLinkDeps) {
  const ownWorkspace = (req: Parameters<typeof principal>[0], id: string) => {
    const workspaceId = principal(req).workspaceId;
    if (id !== workspaceId) throw new AppError('not_found', `workspace ${id} not found`);
    return workspaceId;
  };
  return [
    endpoint({
      method: 'get',
      path: '/t/o/:token',
      tag: 'email tracking',
      summary: 'Open pixel of a sequence email: a 1×1 GIF, the first open recorded as a journey event',
      auth: 'none',
      params: Token,
      responses: { 200: { description: 'image/gif, whatever the token' } },
      async handler({ params, req, res }) {
        // Mail clients must always get the image; an unknown token or an outage only goes uncounted.
        await trackOpen(deps, params.token, req.get('user-agent')).catch(() => undefined);
        res.set('cache-control', 'no-store').type('image/gif').send(PIXEL_GIF);
      },
    }),
    endpoint({
      method: 'get',
      path: '/t/c/:token',
      tag: 'email tracking',
      summary: 'Tracked link of a sequence email: 302 to the URL the signed token names, the click recorded',
      description:
        'The URL is inside the signed token, never in a parameter: an altered token, or one that names no URL, is 404, so this cannot become an open redirect.',
      auth: 'none',
      params: Token,
      responses: { 302: { description: 'to the link’s URL' } },
      async handler({ params, req, res }) {
        const click = await trackClick(deps, params.token, req.get('user-agent'));
        if (!click) throw new AppError('not_found', 'this link is not valid');
        res.set('cache-control', 'no-store').redirect(302, click.url);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/workspaces/:id/settings',
      tag: 'workspaces',
      summary: 'The caller’s email settings: whether sequence email is tracked (opens and clicks)',
      permission: 'read',
      responses: { 200: { description: 'settings', schema: EmailSettings } },
      async handler({ params, req }) {
        return emailSettings(deps, ownWorkspace(req, params.id));
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/workspaces/:id/settings',
      tag: 'workspaces',
      summary: 'Turn tracking of sequence email on or off (links already sent keep redirecting, uncounted)',
      permission: 'admin',
      body: z.object({ email_tracking: z.boolean() }).strict(),
      responses: { 200: { description: 'settings', schema: EmailSettings } },
      async handler({ params, body, req }) {
        return changeEmailSettings(deps, ownWorkspace(req, params.id), body);
      },
    }),
  ];
}
