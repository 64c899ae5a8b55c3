// The mobile lookup (`/m`), for phones 375 px wide and up: locate me (or tap the map), the
// township, village, grid, grid worker and nearest transfer station of the place, the way to
// the station, and reporting a dispute at the place. Small: MapLibre and this code only.

import 'maplibre-gl/dist/maplibre-gl.css';
import '../styles/common.css';
import '../styles/mobile.css';

import { api, HttpError, query } from '../lib/api';
import { byId, h, setState } from '../lib/dom';
import { glossaryAvailable, label, loadGlossary, terms } from '../lib/glossary';
import { renderHeader } from '../lib/header';
import { applyStatic, formatDistance, onLangChange, t, type MessageKey } from '../lib/i18n';
import { addTilesSource, addUnderLabels, createMap, layerBounds, loadStyle, maplibregl } from '../lib/map';
import { canRead, canReportDisputes, requireUser, type Me } from '../lib/session';

interface Named {
  id: number | null;
  code: string;
  name: string | null;
}

interface Nearest {
  id: number | null;
  name: string | null;
  distance_m: number;
  coordinates: [number, number] | null;
}

/** The answer of GET /api/v1/lookup (lookup.rs `answer`). */
interface LookupAnswer {
  point: { lon: number; lat: number; crs: string };
  wgs84: [number, number];
  township: Named | null;
  village: Named | null;
  villager_group: Named | null;
  grid: { id: number | null; code: string | null; name: string | null; worker_name: string | null; worker_phone: string | null } | null;
  transfer_station: Nearest | null;
  collection_point: Nearest | null;
}

let me: Me;
let map: maplibregl.Map;
let current: LookupAnswer | null = null;
let marker: maplibregl.Marker | null = null;

const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

function status(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = byId('status');
  el.textContent = text;
  el.dataset.kind = kind;
}

async function lookup(lon: number, lat: number): Promise<void> {
  status(t('m.looking'));
  if (!marker) marker = new maplibregl.Marker({ color: '#1f6feb' });
  marker.setLngLat([lon, lat]).addTo(map);
  try {
    current = await api<LookupAnswer>(`/api/v1/lookup${query({ lon: lon.toFixed(7), lat: lat.toFixed(7), crs: 'wgs84' })}`);
    status('');
    drawCard();
    void drawWay();
    byId('report').hidden = !canReportDisputes(me);
  } catch (e) {
    current = null;
    byId('card').hidden = true;
    byId('report').hidden = true;
    (map.getSource('way') as maplibregl.GeoJSONSource | undefined)?.setData(EMPTY);
    if (e instanceof HttpError && e.status === 404) status(t('m.outside'), 'error');
    else status(t('common.error', { detail: e instanceof Error ? e.message : String(e) }), 'error');
  }
}

function row(key: MessageKey, value: Node | string, id: string): HTMLElement {
  return h('div', { class: 'row', id }, h('dt', {}, t(key)), h('dd', {}, value));
}

function drawCard(): void {
  const card = byId('card');
  const a = current;
  if (!a) {
    card.hidden = true;
    return;
  }
  const divisionText = (d: Named | null): string => (d ? `${d.name ?? ''}` : t('common.none'));
  const phone = a.grid?.worker_phone;
  const rows: HTMLElement[] = [
    row('m.township', divisionText(a.township), 'card-township'),
    row('m.village', divisionText(a.village), 'card-village'),
  ];
  if (a.villager_group) rows.push(row('m.group', divisionText(a.villager_group), 'card-group'));
  rows.push(
    row('m.grid', a.grid ? h('span', {}, a.grid.name ?? '', ' ', h('code', { id: 'card-grid-code' }, a.grid.code ?? '')) : t('common.none'), 'card-grid'),
    row('m.worker', a.grid?.worker_name ?? t('common.none'), 'card-worker'),
    row('m.phone', phone ? (phone.includes('*') ? phone : h('a', { href: `tel:${phone}` }, phone)) : t('common.none'), 'card-phone'),
  );
  if (a.transfer_station) {
    rows.push(row('m.station', `${a.transfer_station.name ?? ''} · ${formatDistance(a.transfer_station.distance_m)}`, 'card-station'));
  }
  if (a.collection_point) {
    rows.push(row('m.collectionPoint', `${a.collection_point.name ?? ''} · ${formatDistance(a.collection_point.distance_m)}`, 'card-collection'));
  }
  const way = a.transfer_station ? h('p', { class: 'way', id: 'card-way' }, t('m.routeFinding')) : null;
  card.replaceChildren(
    h('p', { class: 'position' }, t('m.position', { lon: a.wgs84[0].toFixed(5), lat: a.wgs84[1].toFixed(5) })),
    h('dl', {}, ...rows),
  );
  if (way) card.append(way);
  card.hidden = false;
}

/** The answer of GET /api/v1/way (way.rs): the way along the roads to a station. */
interface WayAnswer {
  type: 'Feature';
  geometry: GeoJSON.LineString;
  properties: { distance_m: number; duration_s: number; road_m: number; from_road_m: number; to_road_m: number };
}

/**
 * The way to the nearest station along the roads (GET /api/v1/way); where the roads do not
 * lead there (too far from a road, separate road networks) a straight line, saying why.
 */
async function drawWay(): Promise<void> {
  const a = current;
  const source = map.getSource('way') as maplibregl.GeoJSONSource | undefined;
  if (!source || !a) return;
  const station = a.transfer_station;
  const at = station?.coordinates;
  if (!station || !at || station.id === null) {
    source.setData(EMPTY);
    return;
  }
  const text = document.getElementById('card-way');
  let line: GeoJSON.LineString = { type: 'LineString', coordinates: [a.wgs84, at] };
  try {
    const way = await api<WayAnswer>(`/api/v1/way${query({ lon: a.wgs84[0].toFixed(7), lat: a.wgs84[1].toFixed(7), crs: 'wgs84', station: station.id })}`);
    if (current !== a) return;
    line = way.geometry;
    if (text) text.textContent = t('m.routeRoad', { d: formatDistance(way.properties.distance_m), min: Math.max(1, Math.round(way.properties.duration_s / 60)) });
  } catch (e) {
    if (current !== a) return;
    const why = e instanceof HttpError ? e.message : String(e);
    if (text) text.textContent = t('m.routeStraight', { d: formatDistance(station.distance_m), why });
  }
  source.setData({
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { kind: 'way' }, geometry: line },
      { type: 'Feature', properties: { kind: 'station' }, geometry: { type: 'Point', coordinates: at } },
    ],
  });
  const b = new maplibregl.LngLatBounds(a.wgs84, a.wgs84);
  for (const c of line.coordinates) b.extend(c as [number, number]);
  map.fitBounds(b, { padding: 48, maxZoom: 16, duration: 600 });
}

function locate(): void {
  if (!('geolocation' in navigator)) {
    status(t('m.geoUnsupported'), 'error');
    return;
  }
  status(t('m.locating'));
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      map.easeTo({ center: [pos.coords.longitude, pos.coords.latitude], zoom: Math.max(map.getZoom(), 13) });
      void lookup(pos.coords.longitude, pos.coords.latitude);
    },
    (err) => status(t('m.geoFailed', { detail: err.message || String(err.code) }), 'error'),
    { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
  );
}

function fillReportForm(): void {
  const category = byId<HTMLSelectElement>('report-category');
  const channel = byId<HTMLSelectElement>('report-channel');
  const keep = [category.value, channel.value];
  const options = (vocabulary: 'dispute category' | 'dispute channel'): HTMLOptionElement[] =>
    terms(vocabulary).map((term) => h('option', { value: term.token }, label(vocabulary, term.token)));
  category.replaceChildren(...options('dispute category'));
  channel.replaceChildren(...options('dispute channel'));
  if (keep[0]) category.value = keep[0];
  if (keep[1]) channel.value = keep[1];
  else if (terms('dispute channel').some((x) => x.token === 'people')) channel.value = 'people';
  const usable = glossaryAvailable() && category.options.length > 0;
  const submit = byId<HTMLFormElement>('report-form').querySelector<HTMLButtonElement>('button[type=submit]');
  if (submit) submit.disabled = !usable;
  if (!usable) byId('report-result').textContent = t('m.vocabUnavailable');
}

function setupReport(): void {
  const form = byId<HTMLFormElement>('report-form');
  const result = byId('report-result');
  fillReportForm();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!current) {
      result.textContent = t('m.pickFirst');
      return;
    }
    const submit = form.querySelector<HTMLButtonElement>('button[type=submit]');
    if (submit) submit.disabled = true;
    result.textContent = t('m.submitting');
    const note = byId<HTMLTextAreaElement>('report-note').value.trim();
    const body: Record<string, string | number> = {
      lon: current.wgs84[0],
      lat: current.wgs84[1],
      crs: 'wgs84',
      category: byId<HTMLSelectElement>('report-category').value,
      channel: byId<HTMLSelectElement>('report-channel').value,
    };
    if (note) body.note = note;
    api<{ id?: number; properties?: { id?: number } }>('/api/v1/disputes', { method: 'POST', json: body })
      .then((answer) => {
        const id = answer.id ?? answer.properties?.id ?? '';
        result.textContent = t('m.reported', { id: String(id) });
        result.dataset.kind = 'ok';
        result.dataset.id = String(id);
        byId<HTMLTextAreaElement>('report-note').value = '';
      })
      .catch((e: unknown) => {
        result.textContent = t('m.reportFailed', { detail: e instanceof HttpError ? e.detail || String(e.status) : String(e) });
        result.dataset.kind = 'error';
      })
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  });
}

async function main(): Promise<void> {
  applyStatic(document);
  me = await requireUser();
  renderHeader(byId('header'), { title: 'm.title', me });
  const [{ style, basemap }, , bounds] = await Promise.all([loadStyle('light'), loadGlossary(), layerBounds('villages')]);
  if (!basemap) byId('map-note').textContent = t('map.noBasemap');
  map = createMap({ container: byId('map'), style, bounds });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({}), 'bottom-left');
  (window as unknown as { gridgov: object }).gridgov = { map, lookup };
  // gridgov's layers are added as soon as the style is read, so that their tiles load
  // together with the basemap's rather than after them.
  await new Promise<void>((resolve) => (map.isStyleLoaded() ? resolve() : map.once('style.load', () => resolve())));
  if (canRead(me, 'villages')) {
    addTilesSource(map, 'villages');
    addUnderLabels(map, { id: 'villages-line', type: 'line', source: 'villages', 'source-layer': 'villages', paint: { 'line-color': '#5b7fa6', 'line-width': 1 } });
  }
  if (canRead(me, 'grids')) {
    addTilesSource(map, 'grids');
    addUnderLabels(map, { id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', paint: { 'fill-color': '#1f6feb', 'fill-opacity': 0.06 } });
    addUnderLabels(map, { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': '#1f6feb', 'line-width': 1, 'line-dasharray': [2, 1] } });
  }
  if (canRead(me, 'transfer_stations')) {
    addTilesSource(map, 'transfer_stations');
    addUnderLabels(map, { id: 'stations', type: 'circle', source: 'transfer_stations', 'source-layer': 'transfer_stations', paint: { 'circle-radius': 4, 'circle-color': '#2e7d32', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
  }
  map.addSource('way', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'way-line', type: 'line', source: 'way', filter: ['==', ['get', 'kind'], 'way'], paint: { 'line-color': '#e8590c', 'line-width': 3, 'line-dasharray': [2, 1.5] } });
  map.addLayer({ id: 'way-station', type: 'circle', source: 'way', filter: ['==', ['get', 'kind'], 'station'], paint: { 'circle-radius': 7, 'circle-color': '#2e7d32', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
  map.on('click', (e) => void lookup(e.lngLat.lng, e.lngLat.lat));
  byId('locate').addEventListener('click', locate);
  if (canReportDisputes(me)) setupReport();
  onLangChange(() => {
    drawCard();
    if (canReportDisputes(me)) fillReportForm();
  });
  setState('ready');
}

main().catch((e: unknown) => {
  console.error(e);
  setState('error');
  status(t('common.error', { detail: e instanceof Error ? e.message : String(e) }), 'error');
});
