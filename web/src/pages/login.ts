// The sign-in page (`/login`): POST /api/v1/auth/login sets the session cookie, then the
// page asked for (`?next=`) opens.

import '../styles/common.css';
import '../styles/login.css';

import { api, HttpError } from '../lib/api';
import { byId, setState } from '../lib/dom';
import { renderHeader } from '../lib/header';
import { applyStatic, t } from '../lib/i18n';
import { nextUrl } from '../lib/pages';
import type { LoginResponse } from '../lib/session';

function main(): void {
  applyStatic(document);
  renderHeader(byId('header'), { title: 'login.header' });
  const form = byId<HTMLFormElement>('signin');
  const name = byId<HTMLInputElement>('signin-name');
  const password = byId<HTMLInputElement>('signin-password');
  const error = byId('signin-error');
  const submit = form.querySelector<HTMLButtonElement>('button[type=submit]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!name.value.trim() || !password.value) {
      (name.value.trim() ? password : name).focus();
      return;
    }
    error.textContent = '';
    if (submit) {
      submit.disabled = true;
      submit.textContent = t('login.busy');
    }
    api<LoginResponse>('/api/v1/auth/login', {
      method: 'POST',
      json: { username: name.value.trim(), password: password.value },
      signInOn401: false,
    })
      .then(() => {
        location.assign(nextUrl());
      })
      .catch((e: unknown) => {
        if (e instanceof HttpError && e.status === 401) error.textContent = t('login.failed');
        else if (e instanceof HttpError && e.status === 429) error.textContent = t('login.tooMany', { s: 2 });
        else error.textContent = t('login.error', { detail: e instanceof Error ? e.message : String(e) });
        password.select();
        setState('signin');
      })
      .finally(() => {
        if (submit) {
          submit.disabled = false;
          submit.textContent = t('login.submit');
        }
      });
  });
  setState('signin');
}

main();
