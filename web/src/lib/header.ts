// Every page's header: the title, the user with role and scope, the language switch and
// signing out.

import { h } from './dom';
import { LANGS, applyStatic, lang, onLangChange, setLang, t, type Lang, type MessageKey } from './i18n';
import { label } from './glossary';
import { canRead, logout, type Me } from './session';
import { isPage, pageUrl, type PageName } from './pages';

const LANG_NAMES: Record<Lang, string> = { 'zh-CN': '中文', en: 'EN' };

export function langSwitch(): HTMLElement {
  const box = h('div', { class: 'lang-switch', role: 'group', 'data-i18n-aria-label': 'header.language' });
  for (const l of LANGS) {
    const b = h('button', { type: 'button', 'data-lang': l }, LANG_NAMES[l]);
    b.addEventListener('click', () => setLang(l));
    box.append(b);
  }
  const mark = (): void => {
    for (const b of box.querySelectorAll<HTMLButtonElement>('button')) {
      b.setAttribute('aria-pressed', String(b.dataset.lang === lang()));
    }
  };
  mark();
  onLangChange(mark);
  return box;
}

/** Links to the other pages the user may use. */
function pageNav(me: Me): HTMLElement {
  const links: Array<[PageName, MessageKey]> = [['index', 'nav.command'], ['m', 'nav.mobile']];
  if (canRead(me, 'grid_plans')) links.push(['planner', 'nav.planner']);
  if (canRead(me, 'route_plans')) links.push(['sanitation', 'nav.sanitation']);
  const nav = h('nav', { class: 'page-nav', 'data-i18n-aria-label': 'nav.label' });
  for (const [page, key] of links) {
    const a = h('a', { href: pageUrl(page), 'data-i18n': key, 'data-page': page });
    if (isPage(page)) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  return nav;
}

export interface HeaderOptions {
  title: MessageKey;
  me?: Me;
  /** A name for the scope's code, when the page knows it. */
  scopeName?: () => string | undefined;
}

/** Draws the header; the function returned redraws the user line (after a scope name is known). */
export function renderHeader(host: HTMLElement, options: HeaderOptions): () => void {
  host.replaceChildren();
  host.classList.add('app-header');
  host.append(h('h1', {}, h('span', { class: 'brand' }, 'gridgov'), ' ', h('span', { 'data-i18n': options.title })));
  const { me } = options;
  if (me) {
    const who = h('div', { class: 'who', id: 'who' });
    const fill = (): void => {
      const scopeName = options.scopeName?.();
      who.replaceChildren(
        h('span', { class: 'user', id: 'who-user' }, me.username),
        h('span', { class: 'role', id: 'who-role' }, label('role', me.role, lang() === 'en' ? me.role : me.role_zh)),
        h('span', { class: 'scope', id: 'who-scope', title: me.scope }, t('header.scope'), ' ', scopeName ? `${scopeName} (${me.scope})` : me.scope),
      );
    };
    fill();
    onLangChange(fill);
    const out = h('button', { type: 'button', class: 'logout', id: 'logout', 'data-i18n': 'header.logout' });
    out.addEventListener('click', () => void logout());
    host.append(h('div', { class: 'header-right' }, pageNav(me), who, langSwitch(), out));
    applyStatic(host);
    return fill;
  }
  host.append(h('div', { class: 'header-right' }, langSwitch()));
  applyStatic(host);
  return () => {};
}
