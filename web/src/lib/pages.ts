// The pages' addresses: the server serves them at `/`, `/m`, `/login`, `/planner` and `/sanitation`.

export type PageName = 'index' | 'm' | 'login' | 'planner' | 'sanitation';

export function pageUrl(page: PageName): string {
  return page === 'index' ? '/' : `/${page}`;
}

/** The sign-in page, asked to come back here afterwards. */
export function loginUrl(): string {
  const here = location.pathname + location.search;
  return `${pageUrl('login')}?next=${encodeURIComponent(here)}`;
}

/** Where to go after signing in: `next` when it is a path on this server, else the command center. */
export function nextUrl(): string {
  const next = new URLSearchParams(location.search).get('next');
  if (next && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\')) return next;
  return pageUrl('index');
}

/** Whether this page is `page`. */
export function isPage(page: PageName): boolean {
  return location.pathname === pageUrl(page);
}
