// Jaeger's MetricFamily JSON (`/api/metrics/*`) as chart series.

export interface Series {
  label: string;
  points: [number, number][];
}

/** MetricFamily JSON → series keyed by the `operation` label (or the family name). */
export function seriesOf(family: any, label: string): Series[] {
  return (family?.metrics ?? []).map((m: any) => ({
    label: m.labels?.find((l: any) => l.name === 'operation')?.value ?? label,
    points: (m.metricPoints ?? [])
      .map((p: any) => [Date.parse(p.timestamp), Number(p.gaugeValue?.doubleValue ?? p.gaugeValue?.intValue ?? NaN)] as [number, number])
      .filter(([, v]: [number, number]) => Number.isFinite(v)),
  }));
}

