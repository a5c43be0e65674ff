// An SVG line chart for the conversion timeline: hover or arrow keys pick a point, click or Enter drills down.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';

export interface Point {
  key: string;
  label: string;
  value: number;
  /** Spoken and shown for the point: e.g. "Mar 3: 4 conversions, $1,200". */
  description: string;
}

const PAD = { top: 16, right: 24, bottom: 32, left: 56 };

/** Four even steps from 0 up to at least `value`: whole numbers for counts. */
function ticksFor(value: number, integer: boolean): number[] {
  const raw = Math.max(value, integer ? 4 : 1) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = integer ? Math.ceil(raw) : ([1, 2, 2.5, 5, 10].find((s) => s * power >= raw) ?? 10) * power;
  return [0, 1, 2, 3, 4].map((i) => i * step);
}

export function LineChart({
  points,
  selected,
  onSelect,
  formatValue,
  title,
  integer = false,
}: {
  points: Point[];
  selected?: string;
  onSelect: (point: Point) => void;
  formatValue: (value: number) => string;
  title: string;
  /** Counts: whole-number ticks. */
  integer?: boolean;
}) {
  const id = useId();
  const figure = useRef<HTMLElement>(null);
  // Drawn at the width it is shown at, so its text keeps its size on a phone.
  const [WIDTH, setWidth] = useState(800);
  useEffect(() => {
    const element = figure.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(280, Math.min(1400, Math.round(element.clientWidth))));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const HEIGHT = WIDTH < 500 ? 220 : 260;
  const [active, setActive] = useState(() => Math.max(0, points.length - 1));
  const ticks = ticksFor(Math.max(0, ...points.map((p) => p.value)), integer);
  const max = ticks[ticks.length - 1]!;
  const innerWidth = WIDTH - PAD.left - PAD.right;
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) =>
    PAD.left + (points.length <= 1 ? innerWidth / 2 : (i / (points.length - 1)) * innerWidth);
  const y = (value: number) => PAD.top + innerHeight - (value / max) * innerHeight;
  const path = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join(' ');
  const labelEvery = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(innerWidth / 80))));
  const current = points[Math.min(active, points.length - 1)];

  const onKeyDown = (event: KeyboardEvent<SVGSVGElement>) => {
    if (points.length === 0) return;
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
    if (event.key in moves) {
      event.preventDefault();
      const move = moves[event.key]!;
      setActive((i) =>
        Math.max(
          0,
          Math.min(points.length - 1, Number.isFinite(move) ? i + move : move < 0 ? 0 : points.length - 1),
        ),
      );
    } else if ((event.key === 'Enter' || event.key === ' ') && current) {
      event.preventDefault();
      onSelect(current);
    }
  };

  return (
    <figure className="chart" ref={figure}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="application"
        tabIndex={0}
        aria-roledescription="line chart"
        aria-label={`${title}. Left and right arrows move between points, Enter shows that period's conversions.`}
        aria-describedby={`${id}-current`}
        onKeyDown={onKeyDown}
        data-testid="timeline-chart"
      >
        {ticks.map((tick) => (
          <g key={tick} className="tick">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 8} y={y(tick) + 4} textAnchor="end">
              {formatValue(tick)}
            </text>
          </g>
        ))}
        {points.map((p, i) =>
          (i % labelEvery === 0 && points.length - 1 - i >= labelEvery / 2) || i === points.length - 1 ? (
            <text
              key={p.key}
              className="x-label"
              x={x(i)}
              y={HEIGHT - 8}
              textAnchor={
                points.length > 1 && i === points.length - 1
                  ? 'end'
                  : i === 0 && points.length > 1
                    ? 'start'
                    : 'middle'
              }
            >
              {p.label}
            </text>
          ) : null,
        )}
        <path className="line" d={path} />
        {points.map((p, i) => (
          <circle
            key={p.key}
            className={`point${p.key === selected ? ' selected' : ''}${i === active ? ' active' : ''}`}
            cx={x(i)}
            cy={y(p.value)}
            r={p.key === selected || i === active ? 6 : 4}
            onMouseEnter={() => setActive(i)}
            onClick={() => {
              setActive(i);
              onSelect(p);
            }}
          >
            <title>{p.description}</title>
          </circle>
        ))}
      </svg>
      <figcaption id={`${id}-current`} className="muted" aria-live="polite">
        {current ? current.description : 'No data'}
      </figcaption>
    </figure>
  );
}
