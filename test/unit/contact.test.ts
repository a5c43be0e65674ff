// One contact normalisation for every door: emails and phones are trimmed (also of non-breaking and zero-width
// spaces) before they are checked, phones become E.164, and partner adapters read them through the same fields.
import { apfm } from '../../activities/partners/apfm';
import { webform } from '../../activities/partners/webform';
import type { InboundRequest } from '../../activities/partners/types';
import { emailField, normalizeContact, normalizeEmail, phoneField, toE164 } from '../../shared/contact';
import { fixture } from '../support/fixtures';

test('an email with spaces around it is the email, trimmed; its matching key is lower case', () => {
  expect(emailField.parse('dana.okafor@example.com ')).toBe('dana.okafor@example.com');
  expect(emailField.parse('\u00a0\u200bDana.Okafor@Example.com\t')).toBe('Dana.Okafor@Example.com');
  expect(normalizeEmail(' Dana.Okafor@Example.com\u200b')).toBe('dana.okafor@example.com');
  expect(emailField.safeParse('dana okafor@example.com').success).toBe(false);
  expect(emailField.safeParse('   ').success).toBe(false);
});

test('a phone in any readable form with spaces around it is one E.164 number', () => {
  for (const form of [' (303) 555-0190 ', '+1 303 555 0190\u00a0', '303.555.0190', '\u200b3035550190']) {
    expect(phoneField.parse(form)).toBe('+13035550190');
    expect(toE164(form)).toBe('+13035550190');
  }
  expect(phoneField.safeParse('call me maybe').success).toBe(false);
});

test('normalizeContact keeps what it cannot read as is (a phone) or leaves it out (an email that is none)', () => {
  expect(normalizeContact({ email: ' Ada@Example.com ', phone: ' 303-555-0190 ' })).toEqual({
    email: 'Ada@Example.com',
    emailKey: 'ada@example.com',
    phone: '+13035550190',
    phoneE164: '+13035550190',
  });
  expect(normalizeContact({ email: 'n/a', phone: 'ext. 12' })).toEqual({ phone: 'ext. 12' });
  expect(normalizeContact({ email: '  ', phone: null })).toEqual({});
});

function request(body: unknown): InboundRequest {
  return {
    method: 'POST',
    rawBody: Buffer.from(JSON.stringify(body)),
    headers: { 'webhook-id': 'msg_1' },
    query: {},
    urls: [],
    now: new Date('2025-03-04T14:06:00Z'),
  };
}

test('partner adapters take padded emails and phones through the same fields (web form, referral)', () => {
  const context = { integrationId: 'i', workspaceId: 'w', config: {} };
  const [form] = webform.inbound!.parse(
    request(
      fixture('webform', 'inquiry.json', { email: ' maria.gonzalez@example.com ', phone: ' (720) 555-0142' }),
    ),
    context,
  );
  expect(form!.lead?.create).toMatchObject({ email: 'maria.gonzalez@example.com', phone: '+17205550142' });
  const [referral] = apfm.inbound!.parse(
    request(fixture('apfm', 'referral.json', { 'contact.email': 'linda.whitaker@example.com\u00a0' })),
    context,
  );
  expect(referral!.lead?.create?.email).toBe('linda.whitaker@example.com');
});
