// The command-center screen (大屏) at `/`: the county map with divisions, grids, transfer
// stations, rental-house density, supervised persons per grid (counts only) and the dispute
// hotspots; live counters and charts of the disputes; the event feed over server-sent events;
// drill-down county → township → village → grid by clicking the map.

import 'maplibre-gl/dist/maplibre-gl.css';
import '../styles/common.css';
import '../styles/command.css';

import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { cellToBoundary } from 'h3-js';
import type { ExpressionSpecification, FilterSpecification, MapGeoJSONFeature } from 'maplibre-gl';

import { api, HttpError, query } from '../lib/api';
import { byId, h, setState } from '../lib/dom';
import { label, loadGlossary } from '../lib/glossary';
import { renderHeader } from '../lib/header';
import { applyStatic, formatNumber, formatPercent, onLangChange, t, type MessageKey } from '../lib/i18n';
import { absolute, addTilesSource, addUnderLabels, bboxOf, createMap, fontStackOf, hasGlyphs, layerBounds, loadStyle, maplibregl } from '../lib/map';
import { canRead, requireUser, scopeDivision, type Me } from '../lib/session';
import {
  lastMonths, ledger, statistics, type DisputeEvent, type GroupStats, type Grouping, type Ledger, type Statistics,
} from '../lib/disputes';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

type Level = 'county' | 'township' | 'village' | 'grid';

interface Place {
  level: Level;
  code: string;
  name: string;
}

interface DivisionFeature {
  id: number;
  type: 'Feature';
  geometry: GeoJSON.Geometry | null;
  properties: { code: string; name: string; division_code?: string };
}

interface FeatureCollection<F> {
  type: 'FeatureCollection';
  features: F[];
}

interface GridSummary {
  code: string;
  name: string;
  village_code: string;
  households: number;
  rental_houses: number;
  /** null for roles that see nothing of supervision. */
  supervised_persons: number | null;
  open_disputes: number;
}

interface H3Counts {
  cells: Array<{ cell: string; count: number }>;
}

const CHILD: Record<Level, Level | null> = { county: 'township', township: 'village', village: 'grid', grid: null };
/** What the settlement chart groups by at each level. */
const GROUPING: Record<Level, Grouping> = { county: 'township', township: 'village', village: 'grid', grid: 'grid' };
const CATEGORY_COLOURS = ['#3ba0ff', '#36cbcb', '#4ecb73', '#fad337', '#f2637b', '#975fe4', '#5d7092'];
const LEVEL_COLOURS = { village: '#4ecb73', township: '#fad337', county: '#f2637b' };

const levelOf = (code: string): Level => {
  if (code.includes('-')) return 'grid';
  if (code.endsWith('000000')) return 'county';
  if (code.endsWith('000')) return 'township';
  return 'village';
};
const villageOfGrid = (code: string): string => code.split('-')[0] ?? code;

let me: Me;
let map: maplibregl.Map;
let path: Place[] = [];
const names = new Map<string, string>();
let lastStats: { stats: Statistics; months: Array<[string, GroupStats]> | null; total: GroupStats; ledger: Ledger | null } | null = null;
let settlementChart: echarts.ECharts;
let monthChart: echarts.ECharts;
let feedAvailable = true;
const feed: DisputeEvent[] = [];
let refreshTimer = 0;
let refreshHeader: () => void = () => {};
let settleMap: () => void = () => {};
/** Resolves once the map has drawn its first tiles. */
const mapSettled = new Promise<void>((resolve) => {
  settleMap = resolve;
});

const here = (): Place => path[path.length - 1] as Place;
const nameOf = (code: string): string => names.get(code) ?? code;

// --- data -------------------------------------------------------------------------------

async function divisionFeatures(layer: 'townships' | 'villages' | 'grids', division: string): Promise<DivisionFeature[]> {
  const fc = await api<FeatureCollection<DivisionFeature>>(`/api/v1/layers/${layer}/items${query({ division, limit: 1000 })}`);
  for (const f of fc.features) names.set(f.properties.code, f.properties.name);
  return fc.features;
}

/** The statistics of a place (a grid's from its village's groups by grid). */
function pick(stats: Statistics, place: Place): GroupStats {
  if (place.level !== 'grid') return stats.total;
  return stats.groups.find((g) => g.key === place.code) ?? emptyStats();
}

function emptyStats(): GroupStats {
  return {
    cases: 0, by_category: {}, by_level: { village: 0, township: 0, county: 0 }, finished: 0, settled_in_village: 0,
    settled_in_township: 0, reached_county: 0, village_share: null, township_share: null, county_share: null,
    median_days_to_close: null, overdue: 0, repeats: 0,
  };
}

function statsDivision(place: Place): string {
  return place.level === 'grid' ? villageOfGrid(place.code) : place.code;
}

/** Today in the browser, `YYYY-MM-DD` (the server's own day shows as `as_of`). */
function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * Reads the figures of the place: the counters and the settlement chart (the last 12 months'
 * statistics and this month's ledger, in parallel); resolves when they are drawn. The chart
 * by month (the same months grouped by month) follows once the map has its first tiles.
 */
async function loadFigures(): Promise<void> {
  const place = here();
  const division = statsDivision(place);
  const by = GROUPING[place.level];
  const months = lastMonths(today());
  const first = months[0] as string;
  const last = months[months.length - 1] as string;
  const [window, book] = await Promise.all([
    statistics({ by, division, from: first, to: last }),
    ledger({ division, month: last }).catch((e: unknown) => {
      console.warn('ledger', e);
      return null;
    }),
  ]);
  if (place !== here()) return; // the user moved on meanwhile
  lastStats = { stats: window, months: null, total: pick(window, place), ledger: book };
  drawFigures();
  // The chart by month follows once the map has its first tiles (the browser's six
  // connections to the server go to the map first). The counters do not wait for it.
  const grid = place.level === 'grid' ? place.code : undefined;
  void mapSettled
    .then(() => statistics({ by: 'month', division, grid, from: first, to: last }))
    .then((byMonth) => {
      if (place !== here() || !lastStats) return;
      lastStats.months = months.map((m): [string, GroupStats] => [m, byMonth.groups.find((g) => g.key === m) ?? emptyStats()]);
      drawMonthChart();
    })
    .catch((e: unknown) => console.warn('disputes by month', e));
}

// --- counters and charts ---------------------------------------------------------------------

function drawFigures(): void {
  const box = byId('counters');
  if (!lastStats) return;
  const place = here();
  const rows = (lastStats.ledger?.rows ?? []).filter((r) => place.level !== 'grid' || r.grid === place.code);
  const open = rows.filter((r) => r.open);
  const count = (level: string): number => open.filter((r) => r.level === level).length;
  const ledgerKnown = lastStats.ledger !== null;
  const counter = (key: MessageKey, value: string, cls: string, id: string): HTMLElement =>
    h('div', { class: `counter ${cls}`, id }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, t(key)));
  const n = (v: number): string => (ledgerKnown ? formatNumber(v) : '—');
  box.replaceChildren(
    counter('cc.openVillage', n(count('village')), 'level-village', 'counter-open-village'),
    counter('cc.openTownship', n(count('township')), 'level-township', 'counter-open-township'),
    counter('cc.openCounty', n(count('county')), 'level-county', 'counter-open-county'),
    counter('cc.overdue', n(rows.filter((r) => r.overdue).length), 'warn', 'counter-overdue'),
    counter('cc.villageShare', formatPercent(lastStats.total.village_share), 'share', 'counter-village-share'),
    counter('cc.escalations', n(rows.filter((r) => r.escalated).length), 'warn', 'counter-escalations'),
  );
  byId('as-of').textContent = t('cc.asOf', { date: lastStats.stats.as_of });
  drawMonthChart();
  drawSettlementChart();
}

const axisStyle = {
  axisLine: { lineStyle: { color: '#3a4d6b' } },
  axisLabel: { color: '#9fb3d1', fontSize: 12 },
  splitLine: { lineStyle: { color: '#1c2a40' } },
};

function drawMonthChart(): void {
  const months = lastStats?.months;
  if (!months) return;
  const totals = new Map<string, number>();
  for (const [, s] of months) {
    for (const [c, n] of Object.entries(s.by_category)) totals.set(c, (totals.get(c) ?? 0) + n);
  }
  const top = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([c]) => c);
  const series = top.map((c, i) => ({
    name: label('dispute category', c),
    type: 'bar' as const,
    stack: 'all',
    itemStyle: { color: CATEGORY_COLOURS[i % CATEGORY_COLOURS.length] },
    data: months.map(([, s]) => s.by_category[c] ?? 0),
  }));
  series.push({
    name: t('cc.otherCategories'),
    type: 'bar',
    stack: 'all',
    itemStyle: { color: '#5d7092' },
    data: months.map(([, s]) => s.cases - top.reduce((sum, c) => sum + (s.by_category[c] ?? 0), 0)),
  });
  monthChart.setOption(
    {
      tooltip: { trigger: 'axis' },
      legend: { top: 0, textStyle: { color: '#c8d6ec', fontSize: 12 }, itemWidth: 12, itemHeight: 8 },
      grid: { left: 40, right: 10, top: 56, bottom: 24 },
      xAxis: { type: 'category', data: months.map(([m]) => m.slice(2)), ...axisStyle },
      yAxis: { type: 'value', ...axisStyle },
      series,
      animationDuration: 500,
    },
    true,
  );
  const chart = byId('chart-months');
  chart.dataset.cases = months.map(([m, s]) => `${m}:${s.cases}`).join(' ');
  chart.dataset.ready = 'true';
}

function drawSettlementChart(): void {
  if (!lastStats) return;
  const place = here();
  const groups = lastStats.stats.groups.filter((g) => g.key !== null);
  // The window's statistics are grouped by division or grid (GROUPING), never by month.
  const units: Record<Exclude<Grouping, 'month'>, MessageKey> = { township: 'cc.unitTownship', village: 'cc.unitVillage', grid: 'cc.unitGrid' };
  const unit = units[lastStats.stats.grouping as Exclude<Grouping, 'month'>];
  byId('settlement-title').textContent = t('cc.settlementBy', { unit: t(unit) });
  // Townships and villages by name; grids (all of one village here) by their code's suffix.
  const keyName = (k: string): string => (k.includes('-') ? k.slice(k.indexOf('-') + 1) : names.get(k) ?? k);
  const mk = (name: MessageKey, pickValue: (g: GroupStats) => number, color: string) => ({
    name: t(name),
    type: 'bar' as const,
    stack: 'settled',
    itemStyle: { color },
    data: groups.map((g) => ({
      value: pickValue(g),
      itemStyle: place.level === 'grid' && g.key !== place.code ? { opacity: 0.35 } : {},
    })),
  });
  settlementChart.setOption(
    {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0, textStyle: { color: '#c8d6ec', fontSize: 12 }, itemWidth: 12, itemHeight: 8 },
      grid: { left: 88, right: 16, top: 32, bottom: 20 },
      yAxis: { type: 'category', inverse: true, data: groups.map((g) => keyName(g.key as string)), ...axisStyle },
      xAxis: { type: 'value', ...axisStyle },
      series: [
        mk('cc.settledVillage', (g) => g.settled_in_village, LEVEL_COLOURS.village),
        mk('cc.settledTownship', (g) => g.settled_in_township, LEVEL_COLOURS.township),
        mk('cc.reachedCounty', (g) => g.reached_county, LEVEL_COLOURS.county),
      ],
      animationDuration: 500,
    },
    true,
  );
}

// --- grid summary ----------------------------------------------------------------------------

let gridSummary: GridSummary[] | null = null;
let gridSummaryState: 'loading' | 'ok' | 'missing' = 'loading';

async function loadGridSummary(): Promise<void> {
  const place = here();
  const box = byId('grids');
  try {
    const answer = await api<{ grids: GridSummary[] }>(`/api/v1/grids/summary${query({ division: statsDivision(place) })}`);
    if (place !== here()) return;
    gridSummary = answer.grids;
    gridSummaryState = 'ok';
    for (const g of answer.grids) {
      names.set(g.code, g.name);
      // The map may not exist yet: the `sourcedata` handler sets the states then.
      if (map?.getSource('grids')) {
        map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id: g.code }, { supervised: g.supervised_persons ?? -1 });
      }
    }
    drawGridSummary();
  } catch (e) {
    gridSummary = null;
    gridSummaryState = 'missing';
    box.replaceChildren(h('p', { class: 'unavailable', id: 'grids-unavailable' }, t('cc.gridsUnavailable')));
    if (!(e instanceof HttpError && e.missing)) console.warn('grid summary', e);
  }
}

function drawGridSummary(): void {
  const box = byId('grids');
  if (!gridSummary) {
    box.replaceChildren(gridSummaryState === 'loading'
      ? h('p', {}, t('common.loading'))
      : h('p', { class: 'unavailable', id: 'grids-unavailable' }, t('cc.gridsUnavailable')));
    return;
  }
  const place = here();
  const shown = gridSummary
    .filter((g) => place.level !== 'grid' || g.code === place.code)
    .sort((a, b) => b.open_disputes - a.open_disputes || (b.supervised_persons ?? 0) - (a.supervised_persons ?? 0))
    .slice(0, 14);
  const head = h('tr', {}, ...(['cc.gridCode', 'cc.households', 'cc.rentals', 'cc.supervised', 'cc.openDisputes'] as MessageKey[]).map((k) => h('th', {}, t(k))));
  const body = shown.map((g) =>
    h('tr', { 'data-grid': g.code }, h('td', { title: g.code }, g.name), h('td', {}, formatNumber(g.households)),
      h('td', {}, formatNumber(g.rental_houses)), h('td', {}, g.supervised_persons === null ? '—' : formatNumber(g.supervised_persons)), h('td', {}, formatNumber(g.open_disputes))));
  box.replaceChildren(h('table', { class: 'grid-table' }, h('thead', {}, head), h('tbody', {}, ...body)));
}

// --- event feed ------------------------------------------------------------------------------

const KIND_KEYS: Record<DisputeEvent['kind'], MessageKey> = {
  reported: 'cc.eventReported',
  escalated: 'cc.eventEscalated',
  finished: 'cc.eventFinished',
  updated: 'cc.eventUpdated',
  removed: 'cc.eventRemoved',
};

/** `MM-DD HH:MM` of an event in local time, `MM-DD` when only the day is known. */
function feedTime(at: string): string {
  const d = at.length > 10 ? new Date(at) : null;
  if (!d || Number.isNaN(d.getTime())) return at.slice(5, 10);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

function drawFeed(note?: MessageKey): void {
  const list = byId('feed');
  const status = byId('feed-status');
  status.textContent = note ? t(note) : feedAvailable ? '' : t('cc.feedUnavailable');
  status.className = note || !feedAvailable ? 'unavailable' : '';
  if (feed.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, t('cc.feedEmpty')));
    return;
  }
  list.replaceChildren(
    ...feed.slice(0, 30).map((e) =>
      h('li', { class: `event kind-${e.kind} level-${e.level}`, 'data-id': e.id },
        h('time', { datetime: e.at }, feedTime(e.at)),
        h('span', { class: 'kind' }, t(KIND_KEYS[e.kind] ?? 'cc.eventUpdated')),
        h('span', { class: 'what' }, label('dispute category', e.category)),
        h('span', { class: 'where' }, nameOf(e.division_code)),
        h('span', { class: 'level' }, label('dispute level', e.level)),
      ),
    ),
  );
}

/** Events of the last minute with a place, drawn as rings on the map. */
const flashes: Array<{ at: number; feature: GeoJSON.Feature }> = [];

function flashOnMap(event: DisputeEvent): void {
  const source = map?.getSource('events') as maplibregl.GeoJSONSource | undefined;
  if (!source || event.lon === undefined || event.lat === undefined) return;
  const now = Date.now();
  flashes.push({ at: now, feature: { type: 'Feature', properties: { kind: event.kind }, geometry: { type: 'Point', coordinates: [event.lon, event.lat] } } });
  const draw = (): void => {
    while (flashes.length && (flashes[0] as { at: number }).at < Date.now() - 60_000) flashes.shift();
    source.setData({ type: 'FeatureCollection', features: flashes.map((f) => f.feature) });
  };
  draw();
  window.setTimeout(draw, 61_000);
}

function connectEvents(): void {
  const source = new EventSource('/api/v1/events', { withCredentials: true });
  source.addEventListener('open', () => {
    feedAvailable = true;
    drawFeed();
  });
  source.addEventListener('dispute', (message) => {
    try {
      const event = JSON.parse((message as MessageEvent<string>).data) as DisputeEvent;
      feed.unshift(event);
      drawFeed();
      flashOnMap(event);
      // Counters and charts follow the case a little later, once per burst.
      window.clearTimeout(refreshTimer);
      refreshTimer = window.setTimeout(() => void loadFigures().catch(showStatsError), 1000);
    } catch (e) {
      console.warn('event', e);
    }
  });
  // The client fell behind and missed events: the counters are read again.
  source.addEventListener('lagged', () => void loadFigures().catch(showStatsError));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      feedAvailable = false;
      drawFeed();
    } else {
      drawFeed('cc.feedReconnecting');
    }
  });
}

// --- map -------------------------------------------------------------------------------------

const codeIn = (prefix: string): FilterSpecification =>
  ['==', ['slice', ['get', 'code'], 0, prefix.length], prefix] as FilterSpecification;

function prefixOf(place: Place): string {
  switch (place.level) {
    case 'county': return place.code.slice(0, 6);
    case 'township': return place.code.slice(0, 9);
    case 'village': return place.code;
    case 'grid': return place.code;
  }
}

function addLayers(font: string[] | null): void {
  for (const layer of ['counties', 'townships', 'villages', 'transfer_stations']) addTilesSource(map, layer);
  addTilesSource(map, 'grids', 'code');
  const supervised: ExpressionSpecification = ['coalesce', ['feature-state', 'supervised'], -1];
  addUnderLabels(map, { id: 'townships-fill', type: 'fill', source: 'townships', 'source-layer': 'townships', paint: { 'fill-color': '#1d3b63', 'fill-opacity': 0.35 } });
  addUnderLabels(map, { id: 'villages-fill', type: 'fill', source: 'villages', 'source-layer': 'villages', paint: { 'fill-color': '#2a5788', 'fill-opacity': 0.25 }, filter: codeIn('x') });
  addUnderLabels(map, {
    id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', filter: codeIn('x'),
    paint: {
      'fill-color': ['step', supervised, '#27456b', 0, '#2b5a7d', 1, '#7a6a2e', 2, '#a5542b', 4, '#c0392b'],
      'fill-opacity': 0.55,
    },
  });
  if (!canRead(me, 'rental_houses')) byId('legend-rental').hidden = true;
  if (!canRead(me, 'disputes')) for (const el of document.querySelectorAll<HTMLElement>('#legend .hot, #legend .cold')) el.hidden = true;
  if (canRead(me, 'rental_houses')) {
    map.addSource('rental', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    addUnderLabels(map, {
      id: 'rental-fill', type: 'fill', source: 'rental',
      paint: {
        'fill-color': ['interpolate', ['linear'], ['get', 'count'], 1, '#1b6f7a', 5, '#25a0a0', 15, '#7fe0c8'],
        // Fainter as the map comes closer, so that the grids stay readable.
        'fill-opacity': ['interpolate', ['linear'], ['zoom'], 10, 0.55, 14, 0.2],
      },
    });
  }
  if (canRead(me, 'disputes')) {
    map.addSource('hotspots', { type: 'vector', tiles: [absolute('/api/v1/hotspots/tiles/{z}/{x}/{y}.mvt')], minzoom: 6, maxzoom: 14 });
    addUnderLabels(map, {
      id: 'hotspots-fill', type: 'fill', source: 'hotspots', 'source-layer': 'hotspots',
      filter: ['!=', ['get', 'class'], 'not_significant'],
      paint: {
        'fill-color': ['match', ['get', 'class'], 'hot_99', '#ff3b30', 'hot_95', '#ff7043', 'hot_90', '#ffa270', 'cold_90', '#7fb3ff', 'cold_95', '#4d8df7', 'cold_99', '#2962ff', 'rgba(0,0,0,0)'],
        'fill-opacity': ['interpolate', ['linear'], ['zoom'], 10, 0.6, 14, 0.25],
      },
    });
  }
  addUnderLabels(map, { id: 'villages-line', type: 'line', source: 'villages', 'source-layer': 'villages', paint: { 'line-color': '#4f86c6', 'line-width': 0.8 } });
  addUnderLabels(map, { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', filter: codeIn('x'), paint: { 'line-color': '#9ad0ff', 'line-width': 1, 'line-dasharray': [2, 1] } });
  addUnderLabels(map, { id: 'townships-line', type: 'line', source: 'townships', 'source-layer': 'townships', paint: { 'line-color': '#6fb4ff', 'line-width': 1.6 } });
  addUnderLabels(map, { id: 'counties-line', type: 'line', source: 'counties', 'source-layer': 'counties', paint: { 'line-color': '#00e0ff', 'line-width': 2.5 } });
  addUnderLabels(map, { id: 'selected-line', type: 'line', source: 'townships', 'source-layer': 'townships', filter: codeIn('x'), paint: { 'line-color': '#ffd24a', 'line-width': 3 } });
  addUnderLabels(map, {
    id: 'stations', type: 'circle', source: 'transfer_stations', 'source-layer': 'transfer_stations',
    paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 2, 13, 5], 'circle-color': '#4ecb73', 'circle-stroke-color': '#0b1628', 'circle-stroke-width': 1 },
  });
  map.addSource('events', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: 'events', type: 'circle', source: 'events',
    paint: { 'circle-radius': 9, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-width': 3, 'circle-stroke-color': ['match', ['get', 'kind'], 'escalated', '#ff8a4c', '#ffd24a'] },
  });
  if (font) {
    const text = { 'text-font': font, 'text-size': 13 };
    map.addLayer({ id: 'townships-label', type: 'symbol', source: 'townships', 'source-layer': 'townships', layout: { ...text, 'text-field': ['get', 'name'] }, paint: { 'text-color': '#d6e6ff', 'text-halo-color': '#0b1628', 'text-halo-width': 1.5 } });
    map.addLayer({ id: 'villages-label', type: 'symbol', source: 'villages', 'source-layer': 'villages', minzoom: 10, filter: codeIn('x'), layout: { ...text, 'text-size': 11, 'text-field': ['get', 'name'] }, paint: { 'text-color': '#a8c4e8', 'text-halo-color': '#0b1628', 'text-halo-width': 1.2 } });
  }
}

async function loadRental(): Promise<void> {
  if (!map.getSource('rental')) return;
  try {
    const answer = await api<H3Counts>('/api/v1/layers/rental_houses/h3?resolution=8');
    const features: GeoJSON.Feature[] = answer.cells.map((c) => ({
      type: 'Feature',
      properties: { count: c.count },
      geometry: { type: 'Polygon', coordinates: [cellToBoundary(c.cell, true)] },
    }));
    (map.getSource('rental') as maplibregl.GeoJSONSource).setData({ type: 'FeatureCollection', features });
  } catch (e) {
    console.warn('rental density', e);
    byId('legend-rental').classList.add('unavailable');
  }
}

/** Shows the place: filters, highlight, the map's frame. */
function showPlaceOnMap(bounds: [number, number, number, number] | null): void {
  const place = here();
  const child = CHILD[place.level];
  map.setFilter('villages-fill', child === 'village' ? codeIn(prefixOf(place)) : codeIn('x'));
  if (map.getLayer('villages-label')) map.setFilter('villages-label', place.level === 'county' ? codeIn('x') : codeIn(place.level === 'township' ? prefixOf(place) : prefixOf(path[1] as Place)));
  const gridPrefix = place.level === 'village' || place.level === 'grid' ? villageOfGrid(place.code) : place.level === 'township' ? prefixOf(place) : 'x';
  map.setFilter('grids-fill', codeIn(gridPrefix));
  map.setFilter('grids-line', codeIn(gridPrefix));
  const selected = { county: null, township: 'townships', village: 'villages', grid: 'grids' }[place.level];
  if (map.getLayer('selected-line')) map.removeLayer('selected-line');
  if (selected) {
    map.addLayer({ id: 'selected-line', type: 'line', source: selected, 'source-layer': selected, filter: ['==', ['get', 'code'], place.code], paint: { 'line-color': '#ffd24a', 'line-width': 3 } }, 'stations');
  }
  if (bounds) map.fitBounds(bounds, { padding: 48, duration: 800, maxZoom: 15 });
  // For readers of the page (tests): the place the map now shows.
  document.body.dataset.place = place.code;
}

async function boundsOf(place: Place): Promise<[number, number, number, number] | null> {
  const layer = { county: 'counties', township: 'townships', village: 'villages', grid: 'grids' }[place.level] as 'townships' | 'villages' | 'grids';
  if (place.level === 'grid') {
    const grids = await divisionFeatures('grids', villageOfGrid(place.code));
    return bboxOf(grids.find((g) => g.properties.code === place.code)?.geometry);
  }
  const features = await api<FeatureCollection<DivisionFeature>>(`/api/v1/layers/${layer}/items${query({ division: place.code, limit: 1 })}`);
  const f = features.features.find((x) => x.properties.code === place.code) ?? features.features[0];
  if (f) names.set(place.code, f.properties.name);
  return bboxOf(f?.geometry);
}

/** Starts reading the current place's figures and grid summary (no map needed). */
function startFigures(): Promise<void> {
  const place = here();
  if (place.level === 'township') void divisionFeatures('villages', place.code).catch(() => []);
  if (place.level === 'village') void divisionFeatures('grids', place.code).catch(() => []);
  gridSummaryState = 'loading';
  drawGridSummary();
  const figures = canRead(me, 'disputes') ? loadFigures().catch(showStatsError) : Promise.resolve();
  return Promise.all([figures, loadGridSummary()]).then(() => undefined);
}

async function goTo(next: Place[]): Promise<void> {
  path = next;
  drawCrumbs();
  const figures = startFigures();
  const bounds = await boundsOf(here()).catch(() => null);
  showPlaceOnMap(bounds);
  await figures;
}

function drawCrumbs(): void {
  const nav = byId('crumbs');
  nav.replaceChildren(
    ...path.map((p, i) => {
      const text = p.level === 'county' && !names.has(p.code) ? t('cc.county') : nameOf(p.code);
      if (i === path.length - 1) return h('span', { class: 'crumb current', 'aria-current': 'page', 'data-code': p.code }, text);
      const b = h('button', { type: 'button', class: 'crumb', 'data-code': p.code }, text);
      b.addEventListener('click', () => void goTo(path.slice(0, i + 1)));
      return b;
    }),
  );
}

function onMapClick(e: maplibregl.MapMouseEvent): void {
  const place = here();
  const child = CHILD[place.level] ?? 'grid';
  const layer = { township: 'townships-fill', village: 'villages-fill', grid: 'grids-fill', county: 'townships-fill' }[child];
  const hits: MapGeoJSONFeature[] = map.queryRenderedFeatures(e.point, { layers: [layer] });
  const hit = hits.find((f) => typeof f.properties.code === 'string' && (child === 'township' || String(f.properties.code).startsWith(prefixOf(place.level === 'grid' ? (path[path.length - 2] as Place) : place))));
  if (!hit) return;
  const code = String(hit.properties.code);
  names.set(code, String(hit.properties.name ?? code));
  // From a grid, a click on a neighbouring grid of the village moves sideways.
  const base = place.level === 'grid' ? path.slice(0, -1) : path;
  void goTo([...base, { level: levelOf(code), code, name: nameOf(code) }]);
}

function showStatsError(e: unknown): void {
  const detail = e instanceof HttpError ? e.detail || String(e.status) : String(e);
  byId('counters').replaceChildren(h('p', { class: 'unavailable' }, t('cc.statsUnavailable', { detail })));
}

// --- start -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  applyStatic(document);
  me = await requireUser();
  const scope = scopeDivision(me);
  refreshHeader = renderHeader(byId('header'), { title: 'cc.title', me, scopeName: () => names.get(me.scope) });
  await loadGlossary();
  const [{ style, basemap }] = await Promise.all([
    loadStyle('dark'),
    divisionFeatures('townships', scope).catch(() => []),
  ]);
  const county = await api<FeatureCollection<DivisionFeature>>(`/api/v1/layers/counties/items${query({ limit: 1 })}`).catch(() => null);
  const countyFeature = county?.features[0];
  if (countyFeature) names.set(countyFeature.properties.code, countyFeature.properties.name);
  if (!basemap) byId('map-note').textContent = t('map.noBasemap');
  refreshHeader();

  // The path from the county down to the user's scope.
  const start: Place[] = [];
  const countyCode = countyFeature?.properties.code ?? `${scope.slice(0, 6)}000000`;
  start.push({ level: 'county', code: countyCode, name: nameOf(countyCode) });
  if (levelOf(me.scope) !== 'county') {
    const t9 = `${me.scope.slice(0, 9)}000`;
    start.push({ level: 'township', code: t9, name: nameOf(t9) });
    if (levelOf(me.scope) === 'village' || levelOf(me.scope) === 'grid') start.push({ level: 'village', code: scope, name: nameOf(scope) });
    if (levelOf(me.scope) === 'grid') start.push({ level: 'grid', code: me.scope, name: me.scope });
  }
  path = start;
  const bounds = bboxOf(countyFeature?.geometry) ?? (await layerBounds('townships'));
  settlementChart = echarts.init(byId('chart-settlement'), undefined, { renderer: 'canvas' });
  monthChart = echarts.init(byId('chart-months'), undefined, { renderer: 'canvas' });
  if (!canRead(me, 'disputes')) {
    byId('counters').replaceChildren(h('p', { class: 'unavailable' }, t('cc.noDisputesRole')));
  }
  // The figures are read while the map starts.
  drawCrumbs();
  const figures = startFigures();

  map = createMap({ container: byId('map'), style, bounds });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({}), 'bottom-left');
  (window as unknown as { gridgov: object }).gridgov = { map };

  // gridgov's layers are added as soon as the style is read, so that their tiles load
  // together with the basemap's rather than after them.
  await new Promise<void>((resolve) => (map.isStyleLoaded() ? resolve() : map.once('style.load', () => resolve())));
  // Division names: the basemap's own `places` labels when it has them, else ours (when the
  // style has glyphs at all).
  const basemapNames = style.layers.some((l) => l.type === 'symbol' && l['source-layer'] === 'places');
  addLayers(basemap && hasGlyphs(style) && !basemapNames ? fontStackOf(style) : null);
  map.on('click', onMapClick);
  map.on('mousemove', (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: ['townships-fill', 'villages-fill', 'grids-fill'] });
    map.getCanvas().style.cursor = hits.length ? 'pointer' : '';
  });
  // Feature states are set per tile: set them again when grid tiles arrive.
  map.on('sourcedata', (e) => {
    if (e.sourceId === 'grids' && e.isSourceLoaded && gridSummary) {
      for (const g of gridSummary) map.setFeatureState({ source: 'grids', sourceLayer: 'grids', id: g.code }, { supervised: g.supervised_persons ?? -1 });
    }
  });

  showPlaceOnMap(path.length > 1 ? await boundsOf(here()).catch(() => null) : null);
  drawFeed();
  if (canRead(me, 'disputes')) connectEvents();
  await figures;
  if (lastStats?.ledger) {
    // The feed starts with this month's latest reports.
    const recent = [...lastStats.ledger.rows].sort((a, b) => b.opened_on.localeCompare(a.opened_on) || b.id - a.id).slice(0, 10);
    for (const r of recent) {
      if (!feed.some((e) => e.id === r.id)) {
        feed.push({ id: r.id, kind: 'reported', category: r.category, level: r.level, status: r.status, division_code: r.village, at: r.opened_on });
        names.set(r.village, r.village_name ?? r.village);
      }
    }
    drawFeed();
  }
  onLangChange(() => {
    drawCrumbs();
    drawFigures();
    drawGridSummary();
    drawFeed();
  });
  await new Promise<void>((resolve) => (map.loaded() ? resolve() : map.once('idle', () => resolve())));
  setState('ready');
  settleMap();
  void loadRental();
}

main().catch((e: unknown) => {
  console.error(e);
  setState('error');
  const status = document.getElementById('map-note');
  if (status) status.textContent = t('common.error', { detail: e instanceof Error ? e.message : String(e) });
});

