// The dispute figures the pages show: statistics (GET /api/v1/disputes/statistics), the
// monthly ledger (GET /api/v1/disputes/ledger) and the live events (GET /api/v1/events).

import { api, query } from './api';

/** gridgov-disputes `stats::LevelCounts`. */
export interface LevelCounts {
  village: number;
  township: number;
  county: number;
}

/** gridgov-disputes `stats::GroupStats`. */
export interface GroupStats {
  cases: number;
  by_category: Record<string, number>;
  by_level: LevelCounts;
  finished: number;
  settled_in_village: number;
  settled_in_township: number;
  reached_county: number;
  village_share: number | null;
  township_share: number | null;
  county_share: number | null;
  median_days_to_close: number | null;
  overdue: number;
  repeats: number;
}

export type Grouping = 'township' | 'village' | 'grid' | 'month';

export interface Statistics {
  grouping: Grouping;
  window: { from: string | null; until: string | null };
  as_of: string;
  groups: Array<GroupStats & { key: string | null }>;
  total: GroupStats;
}

export interface LedgerRow {
  id: number;
  township: string;
  township_name: string | null;
  village: string;
  village_name: string | null;
  grid: string | null;
  category: string;
  channel: string;
  opened_on: string;
  level: string;
  status: string;
  open: boolean;
  overdue: boolean;
  escalated: boolean;
  closed: boolean;
}

export interface Ledger {
  division: string;
  division_name: string | null;
  as_of: string;
  rows: LedgerRow[];
  summary: { rows: number; open: number; overdue: number; escalated: number; closed: number };
}

/** An event of GET /api/v1/events named `dispute`. */
export interface DisputeEvent {
  id: number;
  kind: 'reported' | 'escalated' | 'finished' | 'updated' | 'removed';
  category: string;
  level: string;
  status: string;
  division_code: string;
  opened_on?: string;
  lon?: number;
  lat?: number;
  at: string;
}

export function statistics(params: { by: Grouping; division?: string; grid?: string; from?: string; to?: string }): Promise<Statistics> {
  return api<Statistics>(`/api/v1/disputes/statistics${query(params)}`);
}

export function ledger(params: { division?: string; month: string }): Promise<Ledger> {
  return api<Ledger>(`/api/v1/disputes/ledger${query({ ...params, format: 'json' })}`);
}

/** The 12 months up to and including the month of `asOf` (`YYYY-MM-DD`), oldest first. */
export function lastMonths(asOf: string, count = 12): string[] {
  const year = Number(asOf.slice(0, 4));
  const month = Number(asOf.slice(5, 7)) - 1;
  const out: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(year, month - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}
