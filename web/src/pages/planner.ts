// The grid planner (`/planner`): pick a village (or a whole township), set the targets (grids
// or a household range, tolerance, barriers, weights), run the partitioner on the server with
// a progress bar (POST /api/v1/partition-plans), see the plan over the grids in force
// (coloured by deviation) with its per-grid statistics, compare it with them, adjust a draft by
// moving a unit from one grid to a neighbour (POST /api/v1/partition-plans/{id}/moves), and
// approve it. Every plan is kept as a draft until it is approved.

import 'maplibre-gl/dist/maplibre-gl.css';
import '../styles/common.css';
import '../styles/desk.css';

import { api, HttpError, query } from '../lib/api';
import { byId, h, setState } from '../lib/dom';
import { openDesk, type Division } from '../lib/desk';
import { label } from '../lib/glossary';
import { formatNumber, formatPercent, onLangChange, t, type MessageKey } from '../lib/i18n';
import { runJob } from '../lib/job';
import { addTilesSource, addUnderLabels, bboxOf, maplibregl } from '../lib/map';
import { canRead, type Me } from '../lib/session';

interface PlanGridProps {
  code: string;
  name: string;
  households: number;
  workload: number;
  deviation: number;
  compactness: number;
  on_feature: number;
  units: number;
}

interface PartitionPlan {
  id: number;
  name: string;
  division_code: string;
  status: 'draft' | 'approved' | 'effective' | 'superseded';
  status_zh: string;
  job: 'running' | 'done' | 'failed' | null;
  job_zh: string | null;
  job_error: string | null;
  progress: number | null;
  effective_from: string | null;
  parameters: { tolerance?: number } | null;
  summary: {
    grids: number; households: number; within_tolerance: number; mean_compactness: number; balanced: boolean;
    /** Units moved by hand; only once one has been. */
    manual_moves?: number;
  } | null;
  grids?: PlanGrids;
}

type PlanGrids = { type: 'FeatureCollection'; features: Array<{ type: 'Feature'; geometry: GeoJSON.Geometry; properties: PlanGridProps }> };

/** A unit of a drawn plan (GET /api/v1/partition-plans/{id}/units): what moves between grids. */
interface UnitProps {
  unit: number;
  grid: string;
  village_code: string;
  households: number;
  /** Null for a role that may not see it (a plan weighing supervised persons). */
  workload: number | null;
  /** Grid codes it may move to now; empty when it is fixed (`fixed_reason` says why). */
  movable_to: string[];
  fixed_reason: string | null;
}

interface Units {
  plan: number;
  editable: boolean;
  fingerprint: string;
  units: { type: 'FeatureCollection'; features: Array<{ type: 'Feature'; geometry: GeoJSON.Geometry; properties: UnitProps }> };
}

interface Moved {
  plan: PartitionPlan;
  move: { unit: number; from: string; to: string; households: number; workload: number };
  grids: PlanGrids;
}

interface Comparison {
  grids: Array<{ code: string; change: string; current_households: number | null; plan_households: number | null; households_in: number; households_out: number }>;
  totals: { added: number; removed: number; changed: number; unchanged: number; moved: number; current_grids: number; plan_grids: number };
}

const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
/** Roles that draw plans (README: county admins anywhere, township officers their township, village officers their village). */
const PLANNERS = new Set(['county_admin', 'township_officer', 'village_officer']);

let me: Me;
let map: maplibregl.Map;
let townships: Division[] = [];
let villages: Division[] = [];
let plans: PartitionPlan[] = [];
let shown: PartitionPlan | null = null;
let comparison: Comparison | null = null;
/** Adjust mode: the shown draft's units on the map, one of them picked to be moved. */
let adjusting = false;
let units: Units | null = null;
let picked: number | null = null;

const canPlan = (): boolean => PLANNERS.has(me.role) && me.writes.includes('grid_plans') && me.writes.includes('grids');

function note(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = byId('plan-note');
  el.textContent = text;
  el.dataset.kind = kind;
}

/** What went wrong, for a note: the problem's detail and reasons from the server. */
function problem(e: unknown): string {
  return e instanceof HttpError ? e.detail || String(e.status) : String(e);
}

/** The area chosen: a village, or the township when no village is. */
function area(): { field: 'village' | 'township'; code: string } {
  const village = byId<HTMLSelectElement>('village').value;
  return village ? { field: 'village', code: village } : { field: 'township', code: byId<HTMLSelectElement>('township').value };
}

async function loadVillages(): Promise<void> {
  const township = byId<HTMLSelectElement>('township').value;
  villages = (await api<{ features: Division[] }>(`/api/v1/layers/villages/items${query({ division: township, limit: 1000 })}`)).features;
  const select = byId<HTMLSelectElement>('village');
  const whole = me.role === 'village_officer' ? [] : [h('option', { value: '' }, t('pl.wholeTownship'))];
  select.replaceChildren(...whole, ...villages.map((v) => h('option', { value: v.properties.code }, v.properties.name)));
  if (villages[0] && select.options.length > villages.length) select.value = villages[0].properties.code;
}

async function loadPlans(): Promise<void> {
  const answer = await api<{ plans: PartitionPlan[] }>(`/api/v1/partition-plans${query({ division: area().code })}`);
  plans = answer.plans.sort((a, b) => b.id - a.id);
  drawPlans();
}

function drawPlans(): void {
  const list = byId('plans');
  if (plans.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, t('pl.noPlans')));
    return;
  }
  list.replaceChildren(...plans.slice(0, 12).map((p) => {
    const b = h('button', { type: 'button', 'data-plan': p.id, 'aria-current': String(shown?.id === p.id) },
      `#${p.id} ${p.name}`, h('span', { class: 'job' }, label('plan status', p.status, p.status_zh)));
    b.addEventListener('click', () => void showPlan(p.id));
    return h('li', {}, b);
  }));
}

function body(): Record<string, string | number | boolean> {
  const { field, code } = area();
  const b: Record<string, string | number | boolean> = { [field]: code };
  if (byId<HTMLSelectElement>('target').value === 'grids') b.grids = Number(byId<HTMLInputElement>('grids').value);
  else b.households = byId<HTMLInputElement>('households').value.trim();
  b.tolerance = Number(byId<HTMLInputElement>('tolerance').value);
  const barriers = [...byId('barriers').querySelectorAll<HTMLInputElement>('input:checked')].map((x) => x.value);
  if (barriers.length) b.barriers = barriers.join(',');
  const weights = byId<HTMLInputElement>('weights').value.trim();
  if (weights) b.weights = weights;
  b.seconds = Number(byId<HTMLInputElement>('seconds').value);
  if (byId<HTMLInputElement>('rebalance').checked) b.rebalance = true;
  return b;
}

async function run(): Promise<void> {
  const button = byId<HTMLButtonElement>('run');
  button.disabled = true;
  note('');
  try {
    const plan = await runJob({
      create: () => api<PartitionPlan>('/api/v1/partition-plans', { method: 'POST', json: body() }),
      poll: (id) => api<PartitionPlan>(`/api/v1/partition-plans/${id}`),
      bar: byId('progress'),
      text: (p) => t('pl.running', { p }),
    });
    if (plan.job === 'failed') note(t('pl.failed', { detail: plan.job_error ?? '' }), 'error');
    else note(t('pl.savedDraft', { id: plan.id }));
    await loadPlans();
    await showPlan(plan.id);
  } catch (e) {
    note(t('pl.failed', { detail: problem(e) }), 'error');
  } finally {
    button.disabled = !canPlan();
  }
}

async function showPlan(id: number): Promise<void> {
  shown = await api<PartitionPlan>(`/api/v1/partition-plans/${id}`);
  comparison = null;
  stopAdjusting();
  drawPlans();
  drawPlan();
  drawOnMap(true);
  if (shown.job === 'done' || shown.job === null) await loadComparison();
}

async function loadComparison(): Promise<void> {
  if (!shown) return;
  const id = shown.id;
  const answer = await api<Comparison>(`/api/v1/partition-plans/${id}/compare`).catch(() => null);
  if (shown?.id !== id) return;
  comparison = answer;
  drawPlan();
}

/** A drawn draft the user may change: its units can be moved between its grids. */
function adjustable(p: PartitionPlan): boolean {
  return p.status === 'draft' && p.job === 'done' && (p.grids?.features.length ?? 0) > 0 && canPlan();
}

/** A plan grid as people say it: its name, else its code. */
function gridName(code: string): string {
  return shown?.grids?.features.find((f) => f.properties.code === code)?.properties.name ?? code;
}

/** A plan grid's name with its code, or its code alone when it has no name. */
function gridLabel(code: string): string {
  const name = gridName(code);
  return name === code ? code : `${name} (${code})`;
}

async function startAdjusting(): Promise<void> {
  adjusting = true;
  drawPlan();
  await loadUnits();
}

function stopAdjusting(): void {
  adjusting = false;
  units = null;
  picked = null;
  drawUnits();
}

/** (Re)reads the shown plan's units; the picked one stays picked. */
async function loadUnits(): Promise<void> {
  if (!shown) return;
  const id = shown.id;
  try {
    const answer = await api<Units>(`/api/v1/partition-plans/${id}/units`);
    if (!adjusting || shown?.id !== id) return;
    units = answer;
  } catch (e) {
    if (shown?.id !== id) return;
    stopAdjusting();
    note(t('pl.unitsFailed', { detail: problem(e) }), 'error');
  }
  drawUnits();
  drawPlan();
}

function pickUnit(unit: number): void {
  picked = unit;
  drawUnits();
  drawPlan();
}

async function moveUnit(unit: number, to: string): Promise<void> {
  if (!shown || !units) return;
  const p = shown;
  note('');
  try {
    const answer = await api<Moved>(`/api/v1/partition-plans/${p.id}/moves`, { method: 'POST', json: { unit, to, fingerprint: units.fingerprint } });
    if (shown?.id !== p.id) return;
    shown = { ...answer.plan, grids: answer.grids };
    note(t('pl.moved', { unit, households: answer.move.households, from: gridName(answer.move.from), to: gridName(answer.move.to) }));
    drawOnMap(false);
    await Promise.all([loadUnits(), loadComparison()]);
  } catch (e) {
    note(t('pl.moveFailed', { detail: problem(e) }), 'error');
    drawPlan();
  }
}

/** The picked unit: its grid and households, and where it may go (or why it may not). */
function unitPanel(): HTMLElement | null {
  const unit = units?.units.features.find((f) => f.properties.unit === picked)?.properties;
  if (!units || !unit) return adjusting ? h('p', { class: 'note', id: 'unit-hint' }, t(units ? 'pl.unitPick' : 'common.loading')) : null;
  const children: Node[] = [
    h('h3', {}, t('pl.unitTitle', { unit: unit.unit })),
    h('dl', {},
      h('dt', {}, t('pl.grid')), h('dd', { id: 'unit-grid' }, gridLabel(unit.grid)),
      h('dt', {}, t('pl.households')), h('dd', { id: 'unit-households' }, formatNumber(unit.households))),
  ];
  if (units.editable && unit.movable_to.length) {
    const target = h('select', { id: 'unit-target', 'aria-label': t('pl.moveTo') },
      ...unit.movable_to.map((code) => h('option', { value: code }, gridLabel(code))));
    const move = h('button', { type: 'button', class: 'primary', id: 'unit-move' }, t('pl.move'));
    move.addEventListener('click', () => {
      move.disabled = true;
      void moveUnit(unit.unit, target.value);
    });
    children.push(h('div', { class: 'inline' }, h('span', {}, t('pl.moveTo')), target, move));
  } else {
    children.push(h('p', { class: 'note', id: 'unit-fixed' }, unit.fixed_reason ? t('pl.unitFixedWhy', { reason: unit.fixed_reason }) : t('pl.unitFixed')));
  }
  return h('section', { class: 'unit-panel', id: 'unit-panel', 'data-unit': unit.unit }, ...children);
}

/** The units as thin outlines over the plan's grids, the picked one filled. */
function drawUnits(): void {
  const source = map.getSource('units') as maplibregl.GeoJSONSource | undefined;
  if (!source) return;
  source.setData(units?.units ?? EMPTY);
  byId('legend-units').hidden = !units;
  const isPicked: maplibregl.ExpressionSpecification = ['==', ['get', 'unit'], picked ?? -1];
  map.setPaintProperty('units-fill', 'fill-opacity', ['case', isPicked, 0.55, 0]);
  map.setPaintProperty('units-line', 'line-width', ['case', isPicked, 2.5, 0.6]);
}

function tolerance(): number {
  return shown?.parameters?.tolerance ?? 0.1;
}

function drawPlan(): void {
  const box = byId('plan');
  if (!shown) {
    box.replaceChildren(h('p', { class: 'note' }, t('pl.pick')));
    return;
  }
  const p = shown;
  const children: Node[] = [h('h2', {}, p.name, h('span', { class: 'status-tag', id: 'plan-status', 'data-status': p.status }, label('plan status', p.status, p.status_zh)))];
  if (p.summary) {
    children.push(h('p', { class: 'summary', id: 'plan-summary' }, t('pl.summary', {
      grids: p.summary.grids, households: p.summary.households, within: p.summary.within_tolerance, compactness: formatNumber(p.summary.mean_compactness, 2),
    })));
    if (p.summary.manual_moves) children.push(h('p', { class: 'note', id: 'plan-moves' }, t('pl.manualMoves', { n: p.summary.manual_moves })));
  }
  if (adjustable(p)) {
    const toggle = h('button', { type: 'button', class: 'toggle', id: 'adjust', 'aria-pressed': String(adjusting) }, t('pl.adjust'));
    toggle.addEventListener('click', () => {
      if (adjusting) {
        stopAdjusting();
        drawPlan();
      } else {
        void startAdjusting();
      }
    });
    children.push(h('div', { class: 'adjust' }, toggle, unitPanel()));
  }
  const features = p.grids?.features ?? [];
  if (features.length) {
    const head = h('tr', {}, ...(['pl.grid', 'pl.households', 'pl.deviation', 'pl.compactness', 'pl.onFeature'] as MessageKey[]).map((k) => h('th', {}, t(k))));
    const rows = features.map((f) => {
      const g = f.properties;
      return h('tr', { 'data-grid': g.code },
        h('td', { title: g.code }, g.name),
        h('td', {}, formatNumber(g.households)),
        h('td', { class: Math.abs(g.deviation) > tolerance() ? 'off' : '' }, `${g.deviation >= 0 ? '+' : ''}${formatPercent(g.deviation)}`),
        h('td', {}, formatNumber(g.compactness, 2)),
        h('td', {}, formatPercent(g.on_feature)));
    });
    children.push(h('table', { class: 'grid-stats', id: 'grid-stats' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  }
  if (comparison) {
    const c = comparison.totals;
    children.push(h('h2', {}, t('pl.compare')), h('p', { id: 'compare-totals' }, t('pl.compareTotals', {
      current: c.current_grids, plan: c.plan_grids, added: c.added, removed: c.removed, changed: c.changed, moved: c.moved,
    })));
  }
  if (p.status === 'draft' && p.job === 'done' && canPlan()) {
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const date = h('input', { type: 'date', id: 'effective-from', value: today, 'aria-label': t('pl.effectiveFrom') });
    const approve = h('button', { type: 'button', class: 'primary', id: 'approve' }, t('pl.approve'));
    approve.addEventListener('click', () => {
      approve.disabled = true;
      api<PartitionPlan>(`/api/v1/partition-plans/${p.id}/approve`, { method: 'POST', json: { effective_from: (date as HTMLInputElement).value } })
        .then(async () => {
          note(t('pl.approved', { id: p.id }));
          await loadPlans();
          await showPlan(p.id);
          addGridsInForce();
        })
        .catch((e: unknown) => {
          approve.disabled = false;
          note(t('pl.failed', { detail: problem(e) }), 'error');
        });
    });
    children.push(h('div', { class: 'approve' }, h('span', {}, t('pl.effectiveFrom')), date, approve));
  }
  box.replaceChildren(...children);
}

function drawOnMap(fit: boolean): void {
  const source = map.getSource('plan') as maplibregl.GeoJSONSource | undefined;
  if (!source) return;
  const features = shown?.grids?.features ?? [];
  source.setData(features.length ? { type: 'FeatureCollection', features } : EMPTY);
  const tol = tolerance();
  if (map.getLayer('plan-fill')) {
    map.setPaintProperty('plan-fill', 'fill-color', ['case', ['<', ['get', 'deviation'], -tol], '#4d8df7', ['>', ['get', 'deviation'], tol], '#f2637b', '#4ecb73']);
  }
  const { code } = area();
  if (map.getLayer('grids-line')) map.setFilter('grids-line', ['==', ['slice', ['get', 'code'], 0, code.endsWith('000') ? 9 : 12], code.slice(0, code.endsWith('000') ? 9 : 12)]);
  if (fit) {
    const box = features.length
      ? bboxOf({ type: 'GeometryCollection', geometries: features.map((f) => f.geometry) })
      : bboxOf((villages.find((v) => v.properties.code === code) ?? townships.find((x) => x.properties.code === code))?.geometry);
    if (box) map.fitBounds(box, { padding: 40, duration: 600 });
  }
}

/** The grids in force as dashed lines; again after an approval, which changes them. */
function addGridsInForce(): void {
  if (!canRead(me, 'grids')) return;
  if (map.getLayer('grids-line')) map.removeLayer('grids-line');
  if (map.getSource('grids')) map.removeSource('grids');
  addTilesSource(map, 'grids');
  map.addLayer({ id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': '#333', 'line-width': 2, 'line-dasharray': [2, 2] } });
  drawOnMap(false);
}

async function areaChanged(): Promise<void> {
  shown = null;
  comparison = null;
  stopAdjusting();
  drawPlan();
  drawOnMap(true);
  await loadPlans();
}

async function main(): Promise<void> {
  const desk = await openDesk('pl.title', 1);
  ({ me, townships, map } = desk);
  const { scope } = desk;
  await loadVillages();
  if (me.role === 'village_officer') byId<HTMLSelectElement>('village').value = scope;
  const run_ = byId<HTMLButtonElement>('run');
  run_.disabled = !canPlan();
  if (!canPlan()) {
    run_.hidden = true;
    note(t('pl.cannotPlan'));
  }
  map.addSource('plan', { type: 'geojson', data: EMPTY });
  addUnderLabels(map, { id: 'plan-fill', type: 'fill', source: 'plan', paint: { 'fill-color': '#4ecb73', 'fill-opacity': 0.45 } });
  addUnderLabels(map, { id: 'plan-line', type: 'line', source: 'plan', paint: { 'line-color': '#1f2d3d', 'line-width': 1.5 } });
  // The units of adjust mode: a fill, transparent but for the picked unit, takes the clicks.
  map.addSource('units', { type: 'geojson', data: EMPTY });
  addUnderLabels(map, { id: 'units-fill', type: 'fill', source: 'units', paint: { 'fill-color': '#ffd23f', 'fill-opacity': 0 } });
  addUnderLabels(map, { id: 'units-line', type: 'line', source: 'units', paint: { 'line-color': '#5b6b7d', 'line-width': 0.6 } });
  map.on('click', 'units-fill', (e) => {
    const unit = units?.units.features.find((f) => f.properties.unit === e.features?.[0]?.properties.unit);
    if (unit) pickUnit(unit.properties.unit);
  });
  map.on('mouseenter', 'units-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'units-fill', () => { map.getCanvas().style.cursor = ''; });
  addGridsInForce();
  byId('township').addEventListener('change', () => void loadVillages().then(areaChanged));
  byId('village').addEventListener('change', () => void areaChanged());
  byId('target').addEventListener('change', () => {
    const byGrids = byId<HTMLSelectElement>('target').value === 'grids';
    byId('grids').hidden = !byGrids;
    byId('households').hidden = byGrids;
  });
  byId<HTMLFormElement>('plan-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (canPlan()) void run();
  });
  onLangChange(() => {
    drawPlans();
    drawPlan();
  });
  drawPlan();
  drawOnMap(true);
  await loadPlans();
  setState('ready');
}

main().catch((e: unknown) => {
  console.error(e);
  setState('error');
  note(t('common.error', { detail: e instanceof Error ? e.message : String(e) }), 'error');
});
