// The UI's strings: one table per language (src/i18n/), Simplified Chinese by default, the
// reader's choice kept in localStorage. Domain vocabularies come from the server's glossary
// (glossary.ts), not from these tables.

import { zhCN } from '../i18n/zh-CN';
import { en } from '../i18n/en';

export type Lang = 'zh-CN' | 'en';
export type MessageKey = keyof typeof zhCN;
export type Messages = Record<MessageKey, string>;

const TABLES: Record<Lang, Messages> = { 'zh-CN': zhCN, en };
const STORAGE_KEY = 'gridgov.lang';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

function stored(): Lang {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === 'zh-CN' || v === 'en') return v;
  } catch {
    // Storage may be refused (private mode): keep the default.
  }
  return 'zh-CN';
}

let current: Lang = stored();
const listeners: Array<() => void> = [];

export function lang(): Lang {
  return current;
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(zhCN, key);
}

/** The string for `key` in the current language, `{name}` replaced by `vars.name`. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const text = TABLES[current][key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : typeof v === 'number' ? formatNumber(v) : v;
  });
}

export function formatNumber(n: number, digits = 0): string {
  return new Intl.NumberFormat(current, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return new Intl.NumberFormat(current, { style: 'percent', maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(share);
}

export function formatDistance(metres: number): string {
  return metres >= 1000 ? t('unit.km', { n: formatNumber(metres / 1000, 1) }) : t('unit.m', { n: formatNumber(metres) });
}

/** Called after every language change (and not at registration). */
export function onLangChange(listener: () => void): void {
  listeners.push(listener);
}

export function setLang(next: Lang): void {
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not kept: the choice lasts for this page only.
  }
  applyStatic(document);
  for (const listener of listeners) listener();
}

/**
 * Fills the elements that name their string in `data-i18n` (text), `data-i18n-placeholder`,
 * `data-i18n-title` or `data-i18n-aria-label`, and the document's language.
 */
export function applyStatic(root: Document | HTMLElement): void {
  if (root instanceof Document) root.documentElement.lang = current;
  const attrs: Array<[string, (el: HTMLElement, s: string) => void]> = [
    ['i18n', (el, s) => { el.textContent = s; }],
    ['i18nPlaceholder', (el, s) => { el.setAttribute('placeholder', s); }],
    ['i18nTitle', (el, s) => { el.title = s; }],
    ['i18nAriaLabel', (el, s) => { el.setAttribute('aria-label', s); }],
  ];
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n], [data-i18n-placeholder], [data-i18n-title], [data-i18n-aria-label]')) {
    for (const [attr, apply] of attrs) {
      const key = el.dataset[attr];
      if (key !== undefined && isMessageKey(key)) apply(el, t(key));
    }
  }
  const title = document.querySelector<HTMLElement>('title[data-i18n]');
  if (title) title.textContent = t(title.dataset.i18n as MessageKey);
}
