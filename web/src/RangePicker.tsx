// A from/to date range with presets; dates are whole days in the workspace's time zone on the server.
import { useId } from 'react';
import { daysAgo } from './format';

export interface DateRange {
  from: string;
  to: string;
}

const PRESETS = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
];

export function RangePicker({ value, onChange }: { value: DateRange; onChange: (range: DateRange) => void }) {
  const id = useId();
  return (
    <fieldset className="range-picker">
      <legend className="visually-hidden">Date range</legend>
      <div className="presets" role="group" aria-label="Quick ranges">
        {PRESETS.map((preset) => {
          const range = { from: daysAgo(preset.days - 1), to: daysAgo(0) };
          const active = range.from === value.from && range.to === value.to;
          return (
            <button
              key={preset.days}
              type="button"
              className={`button small ${active ? 'primary' : 'ghost'}`}
              aria-pressed={active}
              onClick={() => onChange(range)}
            >
              {preset.label}
            </button>
          );
        })}
      </div>
      <label htmlFor={`${id}-from`}>From</label>
      <input
        id={`${id}-from`}
        type="date"
        value={value.from}
        max={value.to}
        onChange={(event) => event.target.value && onChange({ ...value, from: event.target.value })}
      />
      <label htmlFor={`${id}-to`}>To</label>
      <input
        id={`${id}-to`}
        type="date"
        value={value.to}
        min={value.from}
        onChange={(event) => event.target.value && onChange({ ...value, to: event.target.value })}
      />
    </fieldset>
  );
}
