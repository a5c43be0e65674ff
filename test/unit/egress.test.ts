// The egress guard's classification, without opening any connection: every refused range and spelling, the
// public addresses that pass, and the operator's allow-list.
import { egressRefusal, parseEgressAllow, urlRefusal, type EgressPolicy } from '../../shared/egress';

const none: EgressPolicy = parseEgressAllow('');

describe('addresses', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['[::1]', 'loopback'],
  ])('%s is refused as %s', (address, range) => {
    expect(egressRefusal(address, none)).toBe(range);
  });

  test.each(['8.8.8.8', '52.94.236.248', '2606:4700:4700::1111'])('%s is public', (address) => {
    expect(egressRefusal(address, none)).toBeNull();
  });

  test('the allow-list lets CIDRs and single addresses through, nothing beside them', () => {
    const policy = parseEgressAllow('10.20.0.0/16, 127.0.0.1, fd00::/8');
    expect(egressRefusal('10.20.3.4', policy)).toBeNull();
    expect(egressRefusal('::ffff:10.20.3.4', policy)).toBeNull();
    expect(egressRefusal('10.21.0.1', policy)).toBe('private');
    expect(egressRefusal('127.0.0.1', policy)).toBeNull();
    expect(egressRefusal('127.0.0.2', policy)).toBe('loopback');
    expect(egressRefusal('fd12::1', policy)).toBeNull();
  });

  test('a bad allow-list entry is refused at start-up', () => {
    expect(() => parseEgressAllow('10.0.0.0/99')).toThrow();
    expect(() => parseEgressAllow('http://x/')).toThrow(/LEADRELAY_EGRESS_ALLOW/);
  });
});

describe('URLs', () => {
  test.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://127.1/',
    'http://10.1/',
    'http://0/',
    'http://169.254.169.254/latest/meta-data/',
    'https://[::1]:8443/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:7f00:1]/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://localhost:8081/probe#',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://100.64.1.1/',
    'http://224.1.1.1/',
  ])('%s is refused', (url) => {
    expect(urlRefusal(url, none)).toEqual(expect.any(String));
  });

  test.each(['https://api.hubapi.com', 'https://example.my.salesforce.com/', 'https://8.8.8.8/hook'])(
    '%s passes (names are judged when connected to)',
    (url) => {
      expect(urlRefusal(url, none)).toBeNull();
    },
  );

  test('allowed host names pass whatever they look like', () => {
    expect(urlRefusal('http://localhost:3000/', parseEgressAllow('localhost'))).toBeNull();
  });
});
