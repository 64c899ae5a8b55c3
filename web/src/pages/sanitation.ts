// The sanitation view (`/sanitation`): a township's route plans for a day, computed by the
// server in the background (POST /api/v1/route-plans, with a progress bar), each vehicle's
// route along the roads with its stops, the transfer stations, and the points left off.

import 'maplibre-gl/dist/maplibre-gl.css';
import '../styles/common.css';
import '../styles/desk.css';

import { api, HttpError, query } from '../lib/api';
import { byId, h, setState } from '../lib/dom';
import { openDesk, type Division } from '../lib/desk';
import { label } from '../lib/glossary';
import { formatDistance, formatNumber, onLangChange, t, type MessageKey } from '../lib/i18n';
import { runJob } from '../lib/job';
import { addTilesSource, addUnderLabels, bboxOf, maplibregl } from '../lib/map';
import { canRead, type Me } from '../lib/session';

interface Unassigned {
  name?: string;
  point_id?: number;
  why?: string;
}

interface PlanSummary {
  due_points: number;
  visited_points: number;
  collected_kg: number;
  vehicles: number;
  trips: number;
  distance_m: number;
  duration_s: number;
  unassigned: Unassigned[];
}

/** A route plan as GET /api/v1/route-plans lists it and GET /api/v1/route-plans/{id} holds it. */
interface RoutePlan {
  id: number;
  name: string;
  division_code: string;
  service_date: string;
  job: 'running' | 'done' | 'failed';
  job_zh: string;
  job_error: string | null;
  progress: number;
  summary: PlanSummary | null;
}

interface Stop {
  kind: 'start' | 'collect' | 'unload' | 'end';
  at: [number, number];
  name?: string;
  arrival_s: number;
}

interface RouteProps {
  plate: string;
  vehicle_id: number;
  vehicle_kind: string;
  stops: number;
  trips: number;
  collected_kg: number;
  distance_m: number;
  duration_s: number;
  schedule: Stop[];
}

interface PlanAnswer {
  type: 'FeatureCollection';
  features: Array<{ type: 'Feature'; geometry: GeoJSON.Geometry; properties: RouteProps }>;
  plan: RoutePlan;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
/** Roles that plan routes (README: county admins and township officers plan their townships). */
const PLANNERS = new Set(['county_admin', 'township_officer']);

let me: Me;
let map: maplibregl.Map;
let townships: Division[] = [];
let plans: RoutePlan[] = [];
let shown: PlanAnswer | null = null;
let selectedVehicle: number | null = null;

const canPlan = (): boolean => PLANNERS.has(me.role) && me.writes.includes('route_plans');

function note(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = byId('plan-note');
  el.textContent = text;
  el.dataset.kind = kind;
}

function hours(seconds: number): string {
  return t('san.hours', { h: Math.floor(seconds / 3600), m: Math.round((seconds % 3600) / 60) });
}

function township(): string {
  return byId<HTMLSelectElement>('township').value;
}

async function loadPlans(): Promise<void> {
  const answer = await api<{ plans: RoutePlan[] }>(`/api/v1/route-plans${query({ division: township() })}`);
  plans = answer.plans.sort((a, b) => b.id - a.id);
  drawPlans();
}

function drawPlans(): void {
  const list = byId('plans');
  if (plans.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, t('san.noPlans')));
    return;
  }
  list.replaceChildren(
    ...plans.map((p) => {
      const b = h('button', { type: 'button', 'data-plan': p.id, 'aria-current': String(shown?.plan.id === p.id) },
        `${p.service_date} · #${p.id}`, h('span', { class: 'job' }, label('plan job', p.job, p.job_zh)));
      b.addEventListener('click', () => void showPlan(p.id));
      return h('li', {}, b);
    }),
  );
}

async function compute(): Promise<void> {
  const date = byId<HTMLInputElement>('date').value;
  const button = byId<HTMLButtonElement>('compute');
  button.disabled = true;
  note('');
  try {
    const plan = await runJob({
      create: () => api<RoutePlan>('/api/v1/route-plans', { method: 'POST', json: { township: township(), date, seconds: 10 } }),
      poll: async (id) => (await api<PlanAnswer>(`/api/v1/route-plans/${id}`)).plan,
      bar: byId('progress'),
      text: (p) => t('san.computing', { p }),
    });
    if (plan.job === 'failed') note(t('san.failed', { detail: plan.job_error ?? '' }), 'error');
    await loadPlans();
    await showPlan(plan.id);
  } catch (e) {
    note(t('san.failed', { detail: e instanceof HttpError ? e.detail || String(e.status) : String(e) }), 'error');
  } finally {
    button.disabled = !canPlan();
  }
}

async function showPlan(id: number): Promise<void> {
  shown = await api<PlanAnswer>(`/api/v1/route-plans/${id}`);
  selectedVehicle = null;
  drawPlans();
  drawPlan();
  drawRoutes(true);
}

function drawPlan(): void {
  const box = byId('plan');
  if (!shown) {
    box.replaceChildren(h('p', { class: 'note' }, t('san.pick')));
    return;
  }
  const s = shown.plan.summary;
  const children: Array<Node> = [h('h2', {}, shown.plan.name)];
  if (s) {
    children.push(h('p', { class: 'summary', id: 'plan-summary' }, t('san.summary', {
      vehicles: s.vehicles, trips: s.trips, visited: s.visited_points, due: s.due_points,
      kg: t('san.kg', { n: formatNumber(s.collected_kg) }), km: formatDistance(s.distance_m),
    })));
  }
  const head = h('tr', {}, ...(['san.vehicle', 'san.kind', 'san.stops', 'san.collected', 'san.distance', 'san.duration'] as MessageKey[]).map((k) => h('th', {}, t(k))));
  const rows = shown.features.map((f, i) => {
    const p = f.properties;
    const tr = h('tr', { 'data-vehicle': p.vehicle_id, 'aria-selected': String(selectedVehicle === p.vehicle_id) },
      h('td', {}, h('span', { class: 'swatch', style: `background:${COLOURS[i % COLOURS.length]}` }), p.plate),
      h('td', {}, label('vehicle kind', p.vehicle_kind)),
      h('td', {}, formatNumber(p.stops)),
      h('td', {}, t('san.kg', { n: formatNumber(p.collected_kg) })),
      h('td', {}, formatDistance(p.distance_m)),
      h('td', {}, hours(p.duration_s)));
    tr.addEventListener('click', () => {
      selectedVehicle = selectedVehicle === p.vehicle_id ? null : p.vehicle_id;
      drawPlan();
      drawRoutes(false);
    });
    return tr;
  });
  children.push(h('table', { class: 'vehicles', id: 'vehicles' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  children.push(h('h2', {}, t('san.unassigned')));
  const left = s?.unassigned ?? [];
  children.push(left.length === 0
    ? h('p', { class: 'note' }, t('san.allAssigned'))
    : h('ul', { class: 'unassigned' }, ...left.map((u) => h('li', {}, `${u.name ?? `#${u.point_id ?? ''}`}: ${u.why ?? ''}`))));
  box.replaceChildren(...children);
}

function drawRoutes(fit: boolean): void {
  const routes = map.getSource('routes') as maplibregl.GeoJSONSource | undefined;
  const stops = map.getSource('stops') as maplibregl.GeoJSONSource | undefined;
  if (!routes || !stops) return;
  if (!shown) {
    routes.setData(EMPTY);
    stops.setData(EMPTY);
    return;
  }
  const features = shown.features.map((f, i) => ({
    type: 'Feature' as const,
    geometry: f.geometry,
    properties: { vehicle: f.properties.vehicle_id, colour: COLOURS[i % COLOURS.length], dim: selectedVehicle !== null && selectedVehicle !== f.properties.vehicle_id },
  }));
  routes.setData({ type: 'FeatureCollection', features });
  stops.setData({
    type: 'FeatureCollection',
    features: shown.features.flatMap((f, i) => f.properties.schedule.map((st) => ({
      type: 'Feature' as const,
      geometry: { type: 'Point' as const, coordinates: st.at },
      properties: { kind: st.kind, colour: COLOURS[i % COLOURS.length], dim: selectedVehicle !== null && selectedVehicle !== f.properties.vehicle_id },
    }))),
  });
  if (fit) {
    const box = bboxOf({ type: 'GeometryCollection', geometries: shown.features.map((f) => f.geometry) });
    if (box) map.fitBounds(box, { padding: 40, duration: 600 });
  }
}

function fitTownship(): void {
  const tw = townships.find((x) => x.properties.code === township());
  const box = bboxOf(tw?.geometry);
  if (box) map.fitBounds(box, { padding: 30, duration: 600 });
}

async function main(): Promise<void> {
  ({ me, townships, map } = await openDesk('san.title', 0.8));
  const select = byId<HTMLSelectElement>('township');
  const d = new Date();
  byId<HTMLInputElement>('date').value = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const button = byId<HTMLButtonElement>('compute');
  button.disabled = !canPlan();
  if (!canPlan()) {
    button.hidden = true;
    note(t('san.cannotPlan'));
  }
  if (canRead(me, 'collection_points')) {
    addTilesSource(map, 'collection_points');
    addUnderLabels(map, { id: 'points', type: 'circle', source: 'collection_points', 'source-layer': 'collection_points', paint: { 'circle-radius': 2.5, 'circle-color': '#8a99a8' } });
  }
  map.addSource('routes', { type: 'geojson', data: EMPTY });
  map.addSource('stops', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'routes', type: 'line', source: 'routes', layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': ['get', 'colour'], 'line-width': 3, 'line-opacity': ['case', ['get', 'dim'], 0.15, 0.9] } });
  map.addLayer({ id: 'stops', type: 'circle', source: 'stops', filter: ['==', ['get', 'kind'], 'collect'], paint: { 'circle-radius': 3, 'circle-color': ['get', 'colour'], 'circle-opacity': ['case', ['get', 'dim'], 0.15, 1], 'circle-stroke-color': '#fff', 'circle-stroke-width': 0.5 } });
  if (canRead(me, 'transfer_stations')) {
    addTilesSource(map, 'transfer_stations');
    map.addLayer({ id: 'stations', type: 'circle', source: 'transfer_stations', 'source-layer': 'transfer_stations', paint: { 'circle-radius': 6, 'circle-color': '#2e7d32', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
  }
  select.addEventListener('change', () => {
    shown = null;
    drawPlan();
    drawRoutes(false);
    fitTownship();
    void loadPlans();
  });
  byId<HTMLFormElement>('plan-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (canPlan()) void compute();
  });
  onLangChange(() => {
    drawPlans();
    drawPlan();
  });
  drawPlan();
  await loadPlans();
  const latest = plans.find((p) => p.job === 'done');
  if (latest) await showPlan(latest.id);
  setState('ready');
}

main().catch((e: unknown) => {
  console.error(e);
  setState('error');
  note(t('common.error', { detail: e instanceof Error ? e.message : String(e) }), 'error');
});
