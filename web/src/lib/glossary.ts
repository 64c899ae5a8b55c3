// The project's glossary (GET /api/v1/glossary): the domain vocabularies' tokens with their
// Chinese and English terms, used for every label of a category, level, status or role.

import { api } from './api';
import { lang } from './i18n';

export interface Term {
  token: string;
  zh: string;
  en: string;
}

interface GlossaryAnswer {
  vocabularies: Record<string, Term[]>;
}

/** Vocabulary names as gridgov-model's `vocab.rs` spells them (`dispute category`). */
export type Vocabulary =
  | 'dispute category'
  | 'dispute channel'
  | 'dispute level'
  | 'dispute status'
  | 'role'
  | 'township kind'
  | 'village kind'
  | 'vehicle kind'
  | 'plan job'
  | 'plan status';

// Keys normalised: lower case, spaces and dashes as underscores.
const norm = (name: string): string => name.toLowerCase().replace(/[\s-]+/g, '_');
let table: Map<string, Term[]> | null = null;
let loading: Promise<boolean> | null = null;

/** Loads the glossary once; false when the server does not serve it. */
export function loadGlossary(): Promise<boolean> {
  loading ??= api<GlossaryAnswer>('/api/v1/glossary')
    .then((answer) => {
      table = new Map(Object.entries(answer.vocabularies ?? {}).map(([k, v]) => [norm(k), v]));
      return true;
    })
    .catch(() => false);
  return loading;
}

export function glossaryAvailable(): boolean {
  return table !== null;
}

export function terms(vocabulary: Vocabulary): Term[] {
  return table?.get(norm(vocabulary)) ?? [];
}

/** A token's term in the current language; the token itself when the glossary lacks it. */
export function label(vocabulary: Vocabulary, token: string | null | undefined, fallback?: string): string {
  if (!token) return '—';
  const term = terms(vocabulary).find((x) => x.token === token);
  if (!term) return fallback ?? token;
  return lang() === 'en' ? term.en || term.zh : term.zh;
}
