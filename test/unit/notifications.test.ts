import { nextAllowed, windowFor, DEFAULT_WINDOW } from '../../shared/notifications/quietHours';
import { render, statusTemplate, TEMPLATES } from '../../shared/notifications/templates';

describe('quiet hours', () => {
  test('inside the window a message goes now', () => {
    const at = new Date('2026-03-10T15:00:00Z'); // 10:00 in Chicago
    expect(nextAllowed(at, 'America/Chicago', DEFAULT_WINDOW)).toEqual(at);
  });

  test('late at night it waits for 08:00 the next morning, local time', () => {
    const at = new Date('2026-03-11T04:30:00Z'); // 23:30 in Chicago (CDT from March 8)
    expect(nextAllowed(at, 'America/Chicago', DEFAULT_WINDOW).toISOString()).toBe('2026-03-11T13:00:00.000Z');
  });

  test('early in the morning it waits for the same day 08:00', () => {
    const at = new Date('2026-03-10T10:00:00Z'); // 05:00 in Chicago
    expect(nextAllowed(at, 'America/Chicago', DEFAULT_WINDOW).toISOString()).toBe('2026-03-10T13:00:00.000Z');
  });

  test('stricter state windows: Florida stops at 20:00, Connecticut opens at 09:00', () => {
    const at = new Date('2026-03-11T00:30:00Z'); // 20:30 in New York
    expect(nextAllowed(at, 'America/New_York', windowFor('FL')).toISOString()).toBe(
      '2026-03-11T12:00:00.000Z',
    );
    expect(nextAllowed(at, 'America/New_York', windowFor('TX'))).toEqual(at);
    const morning = new Date('2026-03-10T12:30:00Z'); // 08:30 in New York
    expect(nextAllowed(morning, 'America/New_York', windowFor('CT')).toISOString()).toBe(
      '2026-03-10T13:00:00.000Z',
    );
  });
});

describe('templates', () => {
  test('the seed status templates are used for their transitions, the generic one otherwise', () => {
    expect(statusTemplate('new', 'contacted')).toBe('new_to_contacted');
    expect(statusTemplate('toured', 'lost')).toBe('status_changed');
    expect(TEMPLATES.qualified_to_tour_scheduled!.body).toContain('{tour_datetime}');
  });

  test('placeholders are filled and missing ones leave no braces', () => {
    expect(render('Lead Qualified - {lead_name}', { lead_name: 'Ada L.' })).toBe('Lead Qualified - Ada L.');
    expect(render('Score: {lead_score}', {})).toBe('Score:');
  });
});
