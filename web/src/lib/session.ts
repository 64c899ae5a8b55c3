// Who is signed in (GET /api/v1/auth/me) and what the UI may offer them.

import { api, HttpError } from './api';
import { loginUrl, pageUrl } from './pages';

/** Roles of crates/gridgov-model/src/access.rs. */
export type Role =
  | 'county_admin'
  | 'township_officer'
  | 'village_officer'
  | 'grid_worker'
  | 'command_screen'
  | 'judicial_officer';

/** The answer of GET /api/v1/auth/me (auth::Me). */
export interface Me {
  username: string;
  role: Role;
  role_zh: string;
  /** A division code (12 digits) or a grid code (`520526101201-G01`). */
  scope: string;
  reads: string[];
  writes: string[];
}

/** The answer of POST /api/v1/auth/login (auth::LoginResponse). */
export interface LoginResponse {
  token: string;
  expires_at: string;
  user: Me;
}

/** The signed-in user; without a session, goes to the sign-in page and never resolves. */
export async function requireUser(): Promise<Me> {
  try {
    return await api<Me>('/api/v1/auth/me', { signInOn401: false });
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) {
      location.replace(loginUrl());
      return new Promise<Me>(() => {});
    }
    throw e;
  }
}

export async function logout(): Promise<void> {
  try {
    await api<void>('/api/v1/auth/logout', { method: 'POST', signInOn401: false });
  } finally {
    location.assign(pageUrl('login'));
  }
}

/** Roles that report disputes (gridgov-disputes `workflow::reports`). */
const REPORTERS: ReadonlySet<Role> = new Set<Role>(['grid_worker', 'village_officer', 'township_officer', 'county_admin']);

export function canRead(me: Me, layer: string): boolean {
  return me.reads.includes(layer);
}

export function canReportDisputes(me: Me): boolean {
  return REPORTERS.has(me.role) && me.writes.includes('disputes');
}

/** The division code of the scope: a grid code's village, else the scope itself. */
export function scopeDivision(me: Me): string {
  const dash = me.scope.indexOf('-');
  return dash > 0 ? me.scope.slice(0, dash) : me.scope;
}
